/// @file
/// The hyperbolic tangent.
#pragma once

#include <cmath>
#include <concepts>
#include <string_view>

namespace xtnn {

/// Hyperbolic tangent: `y = tanh(x)`; `dy/dx = 1 - y²`.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::tanh{}, xtnn::dense{16, 1}};
/// @endcode
/// @ingroup activations
struct tanh {
    static constexpr std::string_view name = "tanh"; ///< The name in summaries.
    /// tanh(x).
    template <std::floating_point T>
    T value(T x) const {
        return std::tanh(x);
    }
    /// 1 - y².
    template <std::floating_point T>
    T derivative(T /*x*/, T y) const {
        return T(1) - y * y;
    }
};

} // namespace xtnn
