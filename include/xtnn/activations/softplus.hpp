/// @file
/// Softplus, a smooth ReLU: log(1 + eˣ).
#pragma once

#include <string_view>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/math.hpp>

namespace xtnn {

/// Softplus: `y = log(1 + eˣ)`; `dy/dx = 1 / (1 + e⁻ˣ)` (the sigmoid).
///
/// Computed as `max(x, 0) + log1p(e^-|x|)`, exact and overflow-free for any x.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::softplus{}};
/// @endcode
/// @ingroup activations
struct softplus {
    static constexpr std::string_view name = "softplus"; ///< The name in summaries.
    /// log(1 + eˣ).
    template <real_value V>
    V value(V x) const {
        return detail::log1p_exp(x);
    }
    /// 1 / (1 + e⁻ˣ).
    template <real_value V>
    V derivative(V x, V /*y*/) const {
        return detail::logistic(x);
    }
};

} // namespace xtnn
