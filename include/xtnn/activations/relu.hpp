/// @file
/// The rectified linear unit, max(x, 0).
#pragma once

#include <concepts>
#include <string_view>

namespace xtnn {

/// @defgroup activations Activations
/// Elementwise functions with their derivatives; sequential wraps each in activation_layer.

/// Rectified linear unit: `y = max(x, 0)`; `dy/dx = 1` for x > 0, else 0.
/// @code
/// xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
/// @endcode
/// @ingroup activations
struct relu {
    static constexpr std::string_view name = "relu"; ///< The name in summaries.
    /// max(x, 0).
    template <std::floating_point T>
    T value(T x) const {
        return x > T(0) ? x : T(0);
    }
    /// 1 for x > 0, else 0 (the subgradient at 0 is taken as 0, as PyTorch does).
    template <std::floating_point T>
    T derivative(T x, T /*y*/) const {
        return x > T(0) ? T(1) : T(0);
    }
};

} // namespace xtnn
