/// @file
/// Part header: every layer (dense, conv2d, pooling, batch norm, residual, dropout, random_affine,
/// flatten, softmax, log_softmax), every activation
/// and the weight initializers the layers take.
#pragma once

#include <xtnn/activations/elu.hpp>
#include <xtnn/activations/gelu.hpp>
#include <xtnn/activations/identity.hpp>
#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/activations/sigmoid.hpp>
#include <xtnn/activations/softplus.hpp>
#include <xtnn/activations/tanh.hpp>
#include <xtnn/init/constant.hpp>
#include <xtnn/init/glorot.hpp>
#include <xtnn/init/he.hpp>
#include <xtnn/init/initializer.hpp>
#include <xtnn/init/lecun.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/layers/batch_norm.hpp>
#include <xtnn/layers/bind.hpp>
#include <xtnn/layers/conv2d.hpp>
#include <xtnn/layers/dense.hpp>
#include <xtnn/layers/dropout.hpp>
#include <xtnn/layers/extent2.hpp>
#include <xtnn/layers/flatten.hpp>
#include <xtnn/layers/pooling.hpp>
#include <xtnn/layers/random_affine.hpp>
#include <xtnn/layers/residual.hpp>
#include <xtnn/layers/softmax.hpp>
