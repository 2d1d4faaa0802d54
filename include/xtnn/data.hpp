/// @file
/// Part header: datasets (load_mnist, to_features, to_images; make_two_spirals).
#pragma once

#include <xtnn/data/mnist.hpp>
#include <xtnn/data/two_spirals.hpp>
