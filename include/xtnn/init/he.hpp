/// @file
/// He (Kaiming) initializers: scale from fan-in, for ReLU networks.
#pragma once

#include <concepts>
#include <span>
#include <string_view>

#include <xtnn/core/random.hpp>
#include <xtnn/init/fans.hpp>

namespace xtnn {

/// He/Kaiming uniform: U(-a, a) with a = sqrt(6 / fan_in).
///
/// Keeps the activation variance constant through ReLU layers (PyTorch's
/// `kaiming_uniform_` with its default gain for ReLU).
/// @code
/// auto fc = xtnn::dense<float>({.in = 784, .out = 128, .weight_init = xtnn::he_uniform{}});
/// @endcode
/// @ingroup init
struct he_uniform {
    static constexpr std::string_view name = "he_uniform"; ///< For summaries.
    /// Fills `values` with U(-a, a).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_uniform(values, detail::fan_ratio(6.0, f.in), rng);
    }
};

/// He/Kaiming normal: N(0, s²) with s = sqrt(2 / fan_in).
/// @code
/// auto fc = xtnn::dense<float>({.in = 784, .out = 128, .weight_init = xtnn::he_normal{}});
/// @endcode
/// @ingroup init
struct he_normal {
    static constexpr std::string_view name = "he_normal"; ///< For summaries.
    /// Fills `values` with N(0, s²).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_normal(values, detail::fan_ratio(2.0, f.in), rng);
    }
};

} // namespace xtnn
