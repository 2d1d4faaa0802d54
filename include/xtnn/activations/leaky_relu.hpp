/// @file
/// The leaky rectified linear unit, x for x > 0 and slope * x otherwise.
#pragma once

#include <string>
#include <string_view>
#include <tuple>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn {

/// Leaky ReLU: `y = x` for x > 0, else `negative_slope * x`; NaN stays NaN.
///
/// The derivative is 1 for x > 0, else `negative_slope`. The default slope, 0.01, is
/// PyTorch's.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::leaky_relu{.negative_slope = 0.1}};
/// @endcode
/// @ingroup activations
struct leaky_relu {
    static constexpr std::string_view name = "leaky_relu"; ///< The name in summaries.
    double negative_slope = 0.01;                          ///< The slope for x <= 0.
    /// `leaky_relu(negative_slope=…)`: what a weight file records (layer_description).
    static constexpr auto fields() {
        return std::tuple{field("negative_slope", &leaky_relu::negative_slope)};
    }
    /// x for x > 0, else negative_slope * x.
    template <real_value V>
    V value(V x) const {
        return detail::select(x > V(0), x, detail::constant<V>(negative_slope) * x);
    }
    /// 1 for x > 0, else negative_slope.
    template <real_value V>
    V derivative(V x, V /*y*/) const {
        return detail::select(x > V(0), V(1), detail::constant<V>(negative_slope));
    }
};

} // namespace xtnn
