/// @file
/// The identity activation, y = x.
#pragma once

#include <concepts>
#include <string_view>

namespace xtnn {

/// Identity: `y = x`; `dy/dx = 1`. Useful as a placeholder when an activation is required.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 1}, xtnn::identity{}};
/// @endcode
/// @ingroup activations
struct identity {
    static constexpr std::string_view name = "identity"; ///< The name in summaries.
    /// x.
    template <std::floating_point T>
    T value(T x) const {
        return x;
    }
    /// 1.
    template <std::floating_point T>
    T derivative(T /*x*/, T /*y*/) const {
        return T(1);
    }
};

} // namespace xtnn
