/// @file
/// Part header: every loss (softmax and binary cross-entropy, mean squared and absolute error,
/// huber).
#pragma once

#include <xtnn/losses/binary_cross_entropy.hpp>
#include <xtnn/losses/huber.hpp>
#include <xtnn/losses/mean_absolute_error.hpp>
#include <xtnn/losses/mean_squared_error.hpp>
#include <xtnn/losses/softmax_cross_entropy.hpp>
