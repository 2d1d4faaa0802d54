/// @file
/// The logistic sigmoid, 1 / (1 + e⁻ˣ).
#pragma once

#include <string_view>

#include <xtnn/core/concepts.hpp>
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
    template <real_value V>
    V value(V x) const {
        return detail::logistic(x);
    }
    /// y (1 - y).
    template <real_value V>
    V derivative(V /*x*/, V y) const {
        return y * (V(1) - y);
    }
};

} // namespace xtnn
