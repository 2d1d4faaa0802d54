/// @file
/// Per-sample weights for fit and evaluate, from Keras-style `class_weight` and `sample_weight`.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn::detail {

/// Throws config_error unless every value of `weights` is finite and ≥ 0.
inline void require_weights(const std::vector<double>& weights, const std::string& where,
                            const char* what) {
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (!(weights[i] >= 0.0) || !std::isfinite(weights[i])) {
            throw config_error(where + ": " + what + "[" + std::to_string(i) +
                               "] must be finite and >= 0; got " + format_number(weights[i]));
        }
    }
}

/// The weight of every sample of `y`: its class's weight (class indices, one-hot or probability
/// rows, or binary targets in [0, 1] with two class weights), times its own sample weight.
/// Empty when both are empty (every sample weighs 1).
/// @throws shape_error if sample_weight has not one weight per sample; config_error for a
/// negative or non-finite weight, a class_weight of the wrong length, or targets that name no
/// class (regression targets outside [0, 1], rows of several outputs but another count).
template <std::floating_point T, class Y>
std::vector<T> sample_weights(const Y& y, std::size_t classes,
                              const std::vector<double>& class_weight,
                              const std::vector<double>& sample_weight, const std::string& where) {
    const std::size_t n = y.shape()[0];
    if (class_weight.empty() && sample_weight.empty()) {
        return {};
    }
    require_weights(class_weight, where, "class_weight");
    require_weights(sample_weight, where, "sample_weight");
    if (!sample_weight.empty() && sample_weight.size() != n) {
        throw shape_error(mismatch_message(where, "one sample_weight per sample",
                                           std::to_string(n) + " weights",
                                           std::to_string(sample_weight.size())));
    }
    std::vector<T> w(n, T(1));
    for (std::size_t i = 0; i < sample_weight.size(); ++i) {
        w[i] = static_cast<T>(sample_weight[i]);
    }
    if (class_weight.empty()) {
        return w;
    }
    const std::size_t k = class_weight.size();
    const std::size_t columns = rank_of<Y> == 2 ? y.shape()[1] : 1;
    const bool binary = columns == 1 && !std::integral<element_of<Y>>;
    const std::size_t expected = binary ? 2 : columns == 1 ? classes : columns;
    if (k != expected) {
        throw config_error(where + ": class_weight needs " + std::to_string(expected) +
                           (binary ? " weights (classes 0 and 1 of the binary targets)"
                                   : " weights, one per class") +
                           "; got " + std::to_string(k));
    }
    for (std::size_t r = 0; r < n; ++r) {
        double c = 0;
        if constexpr (std::integral<element_of<Y>>) {
            c = class_weight[static_cast<std::size_t>(y.data()[r])]; // labels checked before
        } else if (binary) {
            const double t = static_cast<double>(y.data()[r]);
            if (!(t >= 0.0 && t <= 1.0)) {
                throw config_error(where +
                                   ": class_weight needs binary targets in [0, 1]; sample " +
                                   std::to_string(r) + " has " + format_number(t));
            }
            c = class_weight[0] * (1.0 - t) + class_weight[1] * t;
        } else {
            for (std::size_t j = 0; j < columns; ++j) {
                c += class_weight[j] * static_cast<double>(y.data()[r * columns + j]);
            }
        }
        w[r] *= static_cast<T>(c);
    }
    return w;
}

} // namespace xtnn::detail
