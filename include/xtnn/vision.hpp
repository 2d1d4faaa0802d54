/// @file
/// The vision floor: from people's photos, scans and drawings to MNIST-style digits, and
/// reading them with a trained model. See docs/mnist.md ("Your own digits").
/// @defgroup vision Vision
/// Preprocessing of people's images of digits.
#pragma once

#include <xtnn/vision/digits.hpp>
#include <xtnn/vision/image.hpp>
#include <xtnn/vision/read_number.hpp>
