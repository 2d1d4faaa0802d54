/// @file
/// Glorot (Xavier) initializers: scale from fan-in plus fan-out, for tanh/sigmoid/linear nets.
#pragma once

#include <concepts>
#include <span>
#include <string_view>

#include <xtnn/core/random.hpp>
#include <xtnn/init/fans.hpp>

namespace xtnn {

/// Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
///
/// The default for dense weights (as in Keras). Same as PyTorch's `xavier_uniform_`.
/// @code
/// xtnn::glorot_uniform{}.fill(std::span(w.data(), w.size()), {784, 128}, rng);
/// @endcode
/// @ingroup init
struct glorot_uniform {
    static constexpr std::string_view name = "glorot_uniform"; ///< For summaries.
    /// Fills `values` with U(-a, a).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_uniform(values, detail::fan_ratio(6.0, f.in + f.out), rng);
    }
};

/// Glorot/Xavier normal: N(0, s²) with s = sqrt(2 / (fan_in + fan_out)).
///
/// An untruncated normal, as PyTorch's `xavier_normal_` (Keras truncates at 2s).
/// @code
/// xtnn::glorot_normal{}.fill(std::span(w.data(), w.size()), {784, 128}, rng);
/// @endcode
/// @ingroup init
struct glorot_normal {
    static constexpr std::string_view name = "glorot_normal"; ///< For summaries.
    /// Fills `values` with N(0, s²).
    template <std::floating_point T>
    void fill(std::span<T> values, fans f, random_engine& rng) const {
        detail::fill_normal(values, detail::fan_ratio(2.0, f.in + f.out), rng);
    }
};

} // namespace xtnn
