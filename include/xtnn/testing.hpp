/// @file
/// Part header: gradient checks for your own layers and losses (check_gradients,
/// check_loss_gradient).
#pragma once

#include <xtnn/testing/gradient_check.hpp>
