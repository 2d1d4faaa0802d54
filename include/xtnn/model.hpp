/// @file
/// Part header: sequential and inference (predict, predict_classes, predict_probabilities):
/// what a program that only runs a trained model needs, with the layers and io parts.
#pragma once

#include <xtnn/model/predict.hpp>
#include <xtnn/model/sequential.hpp>
