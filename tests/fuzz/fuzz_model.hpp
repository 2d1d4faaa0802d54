// The models whose files the npz and onnx fuzz targets read and the seed generator writes.
#pragma once

#include <xtnn/activations/gelu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/layers/batch_norm.hpp>
#include <xtnn/layers/conv2d.hpp>
#include <xtnn/layers/dense.hpp>
#include <xtnn/layers/flatten.hpp>
#include <xtnn/layers/pooling.hpp>
#include <xtnn/layers/residual.hpp>
#include <xtnn/model/sequential.hpp>

namespace xtnn::fuzz {

using model_type = sequential<dense<float>, relu, dense<float>>;

inline model_type make_model() {
    return model_type{dense<float>{4, 3}, relu{}, dense<float>{3, 2}};
}

// A convnet with batch norm on (N, 1, 6, 6) images; PyTorch's export folds its batch norm.
inline auto make_convnet() {
    return sequential{conv2d<float>{1, 2, 3}, batch_norm2d{2}, relu{},
                      max_pool2d{},           flatten{},       dense{8, 2}};
}

// Residual blocks (one projected) and gelu's formula.
inline auto make_residual() {
    return sequential{dense<float>{4, 4}, residual{sequential{dense{4, 4}, gelu{}}},
                      residual{dense<float>{4, 2}, dense<float>{4, 2}}};
}

} // namespace xtnn::fuzz
