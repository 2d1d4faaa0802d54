/// @file
/// Part header: every optimizer (sgd, adam, adamw, rmsprop, adagrad).
#pragma once

#include <xtnn/optimizers/adagrad.hpp>
#include <xtnn/optimizers/adam.hpp>
#include <xtnn/optimizers/rmsprop.hpp>
#include <xtnn/optimizers/sgd.hpp>
