/// @file
/// Part header: every metric (accuracy, top_k_accuracy, confusion_matrix) and the metric
/// contract.
#pragma once

#include <xtnn/metrics/accuracy.hpp>
#include <xtnn/metrics/confusion_matrix.hpp>
#include <xtnn/metrics/metric.hpp>
#include <xtnn/metrics/top_k_accuracy.hpp>
