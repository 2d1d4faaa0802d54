/// @file
/// The exponential linear unit.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <tuple>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/detail/simd.hpp>

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
    /// What a description records: `elu(alpha=…)`.
    static constexpr auto fields() { return std::tuple{field("alpha", &elu::alpha)}; }
    /// x for x > 0, else alpha (eˣ - 1).
    template <real_value V>
    V value(V x) const {
        using std::expm1;
        return detail::select(x > V(0), x, detail::constant<V>(alpha) * expm1(x));
    }
    /// 1 for x > 0, else y + alpha.
    template <real_value V>
    V derivative(V x, V y) const {
        return detail::select(x > V(0), V(1), y + detail::constant<V>(alpha));
    }
};

} // namespace xtnn
