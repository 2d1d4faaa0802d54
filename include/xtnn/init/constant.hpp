/// @file
/// Constant initializers: zeros (the default for biases) and any constant.
#pragma once

#include <algorithm>
#include <concepts>
#include <span>
#include <string_view>

#include <xtnn/core/random.hpp>
#include <xtnn/init/fans.hpp>

namespace xtnn {

/// Every value 0: the default for biases.
/// @code
/// auto fc = xtnn::dense<float>({.in = 4, .out = 2, .bias_init = xtnn::zeros{}});
/// @endcode
/// @ingroup init
struct zeros {
    static constexpr std::string_view name = "zeros"; ///< For summaries.
    /// Sets every value to 0.
    template <std::floating_point T>
    void fill(std::span<T> values, fans, random_engine&) const {
        std::fill(values.begin(), values.end(), T(0));
    }
};

/// Every value equal to `value`.
/// @code
/// auto fc = xtnn::dense<float>({.in = 4, .out = 2, .bias_init = xtnn::constant{0.1}});
/// @endcode
/// @ingroup init
struct constant {
    static constexpr std::string_view name = "constant"; ///< For summaries.
    double value = 0.0;                                  ///< The value every element gets.
    /// Sets every value to `value`.
    template <std::floating_point T>
    void fill(std::span<T> values, fans, random_engine&) const {
        std::fill(values.begin(), values.end(), static_cast<T>(value));
    }
};

} // namespace xtnn
