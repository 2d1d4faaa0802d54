/// @file
/// The exponential linear unit.
#pragma once

#include <cmath>
#include <concepts>
#include <string_view>

namespace xtnn {

/// Exponential linear unit: `y = x` for x > 0, else `alpha (eˣ - 1)`.
///
/// The derivative is 1 for x > 0, else `alpha eˣ = y + alpha`.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::elu{.alpha = 1.0}};
/// @endcode
/// @ingroup activations
struct elu {
    static constexpr std::string_view name = "elu"; ///< The name in summaries.
    double alpha = 1.0; ///< The saturation value for large negative x is -alpha.
    /// x for x > 0, else alpha (eˣ - 1).
    template <std::floating_point T>
    T value(T x) const {
        return x > T(0) ? x : static_cast<T>(alpha) * std::expm1(x);
    }
    /// 1 for x > 0, else y + alpha.
    template <std::floating_point T>
    T derivative(T x, T y) const {
        return x > T(0) ? T(1) : y + static_cast<T>(alpha);
    }
};

} // namespace xtnn
