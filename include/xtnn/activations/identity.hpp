/// @file
/// The identity activation, y = x.
#pragma once

#include <string_view>

#include <xtnn/core/concepts.hpp>

namespace xtnn {

/// Identity: `y = x`; `dy/dx = 1`. Useful as a placeholder when an activation is required.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 1}, xtnn::identity{}};
/// @endcode
/// @ingroup activations
struct identity {
    static constexpr std::string_view name = "identity"; ///< The name in summaries.
    /// x.
    template <real_value V>
    V value(V x) const {
        return x;
    }
    /// 1.
    template <real_value V>
    V derivative(V /*x*/, V /*y*/) const {
        return V(1);
    }
};

} // namespace xtnn
