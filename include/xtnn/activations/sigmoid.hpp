/// @file
/// The logistic sigmoid, 1 / (1 + e⁻ˣ).
#pragma once

#include <concepts>
#include <string_view>

#include <xtnn/core/math.hpp>

namespace xtnn {

/// Logistic sigmoid: `y = 1 / (1 + e⁻ˣ)`; `dy/dx = y (1 - y)`.
///
/// Computed without overflow for large |x| (e⁻ˣ is only formed for x ≥ 0).
/// @code
/// xtnn::sequential model{xtnn::dense{2, 1}, xtnn::sigmoid{}};
/// @endcode
/// @ingroup activations
struct sigmoid {
    static constexpr std::string_view name = "sigmoid"; ///< The name in summaries.
    /// 1 / (1 + e⁻ˣ).
    template <std::floating_point T>
    T value(T x) const {
        return detail::logistic(x);
    }
    /// y (1 - y).
    template <std::floating_point T>
    T derivative(T /*x*/, T y) const {
        return y * (T(1) - y);
    }
};

} // namespace xtnn
