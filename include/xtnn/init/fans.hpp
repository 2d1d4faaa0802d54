/// @file
/// Fan-in and fan-out of a weight tensor, and the shared uniform/normal fills.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>

#include <xtnn/core/random.hpp>

namespace xtnn {

/// @defgroup init Initializers
/// How a layer's parameters get their first values. Each initializer is a small value type
/// with `fill(values, fans, rng)`; `initializer` holds any of them.

/// The number of inputs and outputs one weight connects, which set the initial scale.
///
/// For a dense weight (out, in): `{in, out}`. For a conv weight (oc, ic, kh, kw):
/// `{ic*kh*kw, oc*kh*kw}`.
/// @ingroup init
struct fans {
    std::size_t in = 1;  ///< Inputs feeding each output.
    std::size_t out = 1; ///< Outputs fed by each input.
};

namespace detail {

template <std::floating_point T>
void fill_uniform(std::span<T> values, double limit, random_engine& rng) {
    for (T& v : values) {
        v = static_cast<T>(-limit + 2.0 * limit * rng.uniform());
    }
}

template <std::floating_point T>
void fill_normal(std::span<T> values, double stddev, random_engine& rng) {
    for (T& v : values) {
        v = static_cast<T>(stddev * rng.normal());
    }
}

inline double fan_ratio(double numerator, std::size_t denominator) {
    return std::sqrt(numerator / static_cast<double>(denominator == 0 ? 1 : denominator));
}

} // namespace detail
} // namespace xtnn
