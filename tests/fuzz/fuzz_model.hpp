// The model whose weight files the npz fuzz target reads and the seed generator writes.
#pragma once

#include <xtnn/activations/relu.hpp>
#include <xtnn/layers/dense.hpp>
#include <xtnn/model/sequential.hpp>

namespace xtnn::fuzz {

using model_type = sequential<dense<float>, relu, dense<float>>;

inline model_type make_model() {
    return model_type{dense<float>{4, 3}, relu{}, dense<float>{3, 2}};
}

} // namespace xtnn::fuzz
