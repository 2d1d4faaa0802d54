/// @file
/// The hyperbolic tangent.
#pragma once

#include <cmath>
#include <string_view>

#include <xtnn/core/concepts.hpp>

namespace xtnn {

/// Hyperbolic tangent: `y = tanh(x)`; `dy/dx = 1 - y²`.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::tanh{}, xtnn::dense{16, 1}};
/// @endcode
/// @ingroup activations
struct tanh {
    static constexpr std::string_view name = "tanh"; ///< The name in summaries.
    /// tanh(x).
    template <real_value V>
    V value(V x) const {
        using std::tanh;
        return tanh(x);
    }
    /// 1 - y².
    template <real_value V>
    V derivative(V /*x*/, V y) const {
        return V(1) - y * y;
    }
};

} // namespace xtnn
