/// @file
/// The rectified linear unit, max(x, 0).
#pragma once

#include <string_view>

#include <xtnn/core/concepts.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn {

/// @defgroup activations Activations
/// Elementwise functions with their derivatives; sequential wraps each in activation_layer.
/// The built-in ones take a scalar or an xsimd batch (xtnn::real_value), so their layers
/// run a SIMD register at a time.

/// Rectified linear unit: `y = max(x, 0)`; `dy/dx = 1` for x > 0, else 0. NaN stays NaN (as
/// in PyTorch), so a diverged input is not hidden as zeros.
/// @code
/// xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
/// @endcode
/// @ingroup activations
struct relu {
    static constexpr std::string_view name = "relu"; ///< The name in summaries.
    /// max(x, 0); NaN for NaN.
    template <real_value V>
    V value(V x) const {
        return detail::select(x < V(0), V(0), x);
    }
    /// 1 for x > 0, else 0 (the subgradient at 0 is taken as 0, as PyTorch does).
    template <real_value V>
    V derivative(V x, V /*y*/) const {
        return detail::select(x > V(0), V(1), V(0));
    }
};

} // namespace xtnn
