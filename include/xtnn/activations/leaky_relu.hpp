/// @file
/// The leaky rectified linear unit, x for x > 0 and slope * x otherwise.
#pragma once

#include <concepts>
#include <string_view>

namespace xtnn {

/// Leaky ReLU: `y = x` for x > 0, else `negative_slope * x`.
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
    /// x for x > 0, else negative_slope * x.
    template <std::floating_point T>
    T value(T x) const {
        return x > T(0) ? x : static_cast<T>(negative_slope) * x;
    }
    /// 1 for x > 0, else negative_slope.
    template <std::floating_point T>
    T derivative(T x, T /*y*/) const {
        return x > T(0) ? T(1) : static_cast<T>(negative_slope);
    }
};

} // namespace xtnn
