/// @file
/// LeCun initializers: scale from fan-in, for SELU and tanh networks.
#pragma once

#include <concepts>
#include <span>
#include <string_view>

#include <xtnn/core/random.hpp>
#include <xtnn/init/fans.hpp>

namespace xtnn {

/// LeCun uniform: U(-a, a) with a = sqrt(3 / fan_in).
/// @code
/// auto fc = xtnn::dense<float>({.in = 64, .out = 64, .weight_init = xtnn::lecun_uniform{}});
/// @endcode
/// @ingroup init
struct lecun_uniform {
    static constexpr std::string_view name = "lecun_uniform"; ///< For summaries.
    /// Fills `values` with U(-a, a).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_uniform(values, detail::fan_ratio(3.0, f.in), rng);
    }
};

/// LeCun normal: N(0, s²) with s = sqrt(1 / fan_in).
/// @code
/// auto fc = xtnn::dense<float>({.in = 64, .out = 64, .weight_init = xtnn::lecun_normal{}});
/// @endcode
/// @ingroup init
struct lecun_normal {
    static constexpr std::string_view name = "lecun_normal"; ///< For summaries.
    /// Fills `values` with N(0, s²).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_normal(values, detail::fan_ratio(1.0, f.in), rng);
    }
};

} // namespace xtnn
