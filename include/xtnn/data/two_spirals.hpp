/// @file
/// A seeded two-spirals dataset: a small, hard, non-linear classification problem.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numbers>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// @defgroup data Data
/// Datasets and helpers to feed models.

/// Features and class labels, one row per sample.
/// @tparam T the feature scalar type.
/// @ingroup data
template <std::floating_point T = float>
struct labelled_data {
    tensor<T, 2> features;          ///< (samples, features).
    tensor<std::int64_t, 1> labels; ///< (samples), class indices.
};

/// Options of make_two_spirals().
/// @ingroup data
struct two_spirals_options {
    std::size_t samples_per_class = 200; ///< Points on each spiral (> 0).
    double turns = 1.5;                  ///< How many times each spiral winds (> 0).
    double noise = 0.02;                 ///< Standard deviation of the Gaussian jitter (≥ 0).
    std::uint64_t seed = 0;              ///< Seed of the positions and the jitter.
};

/// Two interleaved spirals in the plane, one per class: no straight line separates them, so
/// a model needs hidden layers to learn it.
///
/// Point i of spiral c sits at radius r = 0.1 + 0.9 u and angle `2π turns u + c π`, where u
/// is uniform in [0, 1); Gaussian noise is added to both coordinates. Coordinates lie in about
/// [-1, 1]. Samples are ordered by class: shuffle before splitting.
/// @throws config_error for a zero sample count, turns ≤ 0 or negative noise.
/// @code
/// auto data = xtnn::make_two_spirals<float>({.samples_per_class = 500, .seed = 1});
/// // data.features (1000, 2), data.labels (1000) in {0, 1}
/// @endcode
/// @ingroup data
template <std::floating_point T = float>
labelled_data<T> make_two_spirals(two_spirals_options options = {}) {
    detail::require_option(options.samples_per_class > 0, "make_two_spirals", "samples_per_class",
                           "> 0", static_cast<double>(options.samples_per_class));
    detail::require_option(options.turns > 0, "make_two_spirals", "turns", "> 0", options.turns);
    detail::require_option(options.noise >= 0, "make_two_spirals", "noise", ">= 0", options.noise);
    const std::size_t n = 2 * options.samples_per_class;
    labelled_data<T> data{tensor<T, 2>(shape<2>{n, 2}), tensor<std::int64_t, 1>(shape<1>{n})};
    random_engine rng(options.seed);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i / options.samples_per_class;
        const double u = rng.uniform();
        const double radius = 0.1 + 0.9 * u;
        const double angle =
            2 * std::numbers::pi * options.turns * u + static_cast<double>(c) * std::numbers::pi;
        data.features(i, 0) =
            static_cast<T>(radius * std::cos(angle) + options.noise * rng.normal());
        data.features(i, 1) =
            static_cast<T>(radius * std::sin(angle) + options.noise * rng.normal());
        data.labels(i) = static_cast<std::int64_t>(c);
    }
    return data;
}

} // namespace xtnn
