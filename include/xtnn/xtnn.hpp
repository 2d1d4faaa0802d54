/// @file
/// The umbrella header: includes every public part of xtnn.
#pragma once

#include <xtnn/version.hpp>

#include <xtnn/core/blas.hpp>
#include <xtnn/core/concepts.hpp>
#include <xtnn/core/denormals.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

#include <xtnn/init/constant.hpp>
#include <xtnn/init/glorot.hpp>
#include <xtnn/init/he.hpp>
#include <xtnn/init/initializer.hpp>
#include <xtnn/init/lecun.hpp>

#include <xtnn/activations/elu.hpp>
#include <xtnn/activations/gelu.hpp>
#include <xtnn/activations/identity.hpp>
#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/activations/sigmoid.hpp>
#include <xtnn/activations/softplus.hpp>
#include <xtnn/activations/tanh.hpp>

#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/layers/bind.hpp>
#include <xtnn/layers/dense.hpp>
#include <xtnn/layers/dropout.hpp>
#include <xtnn/layers/flatten.hpp>
#include <xtnn/layers/softmax.hpp>

#include <xtnn/losses/binary_cross_entropy.hpp>
#include <xtnn/losses/huber.hpp>
#include <xtnn/losses/mean_absolute_error.hpp>
#include <xtnn/losses/mean_squared_error.hpp>
#include <xtnn/losses/softmax_cross_entropy.hpp>

#include <xtnn/optimizers/adagrad.hpp>
#include <xtnn/optimizers/adam.hpp>
#include <xtnn/optimizers/rmsprop.hpp>
#include <xtnn/optimizers/sgd.hpp>

#include <xtnn/model/sequential.hpp>

#include <xtnn/testing/gradient_check.hpp>
#include <xtnn/data/two_spirals.hpp>
