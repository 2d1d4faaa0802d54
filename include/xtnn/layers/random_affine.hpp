/// @file
/// Data augmentation as a layer: random translation, rotation and zoom of image batches while
/// training, the identity at inference (Keras' RandomTranslation, RandomRotation, RandomZoom).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/options.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// Options of random_affine. Each range is symmetric and drawn uniformly per image.
/// @ingroup layers
struct random_affine_options {
    /// Shift of up to this fraction of the height (rows) and of the width (columns), in
    /// [0, 1): 0.1 moves a 28 × 28 digit by up to 2.8 pixels each way (Keras'
    /// RandomTranslation(0.1, 0.1)).
    double translation = 0;
    /// Rotation of up to this fraction of a full turn, in [0, 0.5]: 0.03 turns by up to ±10.8°
    /// (Keras' RandomRotation(0.03)).
    double rotation = 0;
    /// Scaling by a factor in [1 - zoom, 1 + zoom], in [0, 1): 0.1 shrinks or enlarges by up to
    /// 10 % (Keras' RandomZoom(0.1), both axes alike).
    double zoom = 0;
    std::uint64_t seed = 0; ///< Seed of the draws (a model's initialize() reseeds it).

    /// What a description records: the three ranges (the seed chooses draws only).
    static constexpr auto fields() {
        using o = random_affine_options;
        return std::tuple{field("translation", &o::translation), field("rotation", &o::rotation),
                          field("zoom", &o::zoom)};
    }
};

/// Random affine augmentation of images `(batch, channels, height, width)`: in training, each
/// image is turned, scaled and shifted about its centre by amounts drawn for it (the same for
/// all its channels), sampled bilinearly, with zeros (MNIST's background) where the source
/// falls outside; at inference it is the identity, and exported files omit it.
///
/// Forward (training): `y[n, c, i, j] = Σ w · x[n, c, i', j']` over the four source pixels
/// around `A_n⁻¹ (i, j)`, A_n the image's transform. Backward: the transpose, `dx` gathers `dy`
/// with the same weights (the layer is usually first, where no `dx` is asked for). Nothing
/// allocates after the first batch of a given size; the draws come from the layer's seeded
/// engine (same seed, same images), four per image.
/// @tparam T the scalar type.
/// @throws config_error for a range outside its interval.
/// @code
/// xtnn::sequential model{xtnn::random_affine<float>({.translation = 0.1, .rotation = 0.03,
///                                                    .zoom = 0.1}),
///                        xtnn::conv2d<float>{1, 32, 3}, xtnn::relu{}, ...};
/// @endcode
/// @ingroup layers
template <std::floating_point T = float>
class random_affine : public layer_base<random_affine<T>, T, 4, 4> {
  public:
    static constexpr std::string_view name = "random_affine"; ///< The name in summaries.
    using options_type = random_affine_options;               ///< What it is built from.
    /// Each image's four draws in the samples' order: groups draw the whole batch's.
    static constexpr bool trains_by_samples = true;

    /// No augmentation until options say how much.
    explicit random_affine(detail::empty_braces) : random_affine() {}
    /// A layer drawing within `options`' ranges.
    explicit random_affine(random_affine_options options = {})
        : options_(options), rng_(options.seed) {
        const auto& o = options_;
        detail::require_option(o.translation >= 0 && o.translation < 1, "random_affine",
                               "translation", "in [0, 1)", o.translation);
        detail::require_option(o.rotation >= 0 && o.rotation <= 0.5, "random_affine", "rotation",
                               "in [0, 0.5]", o.rotation);
        detail::require_option(o.zoom >= 0 && o.zoom < 1, "random_affine", "zoom", "in [0, 1)",
                               o.zoom);
    }

    /// The ranges.
    const random_affine_options& options() const { return options_; }

    /// Reseeds the draws from `rng` (called by sequential::initialize).
    void initialize(random_engine& rng) { rng_ = random_engine(rng()); }
    /// The engine of the draws, which fit's backups save and restore.
    random_engine& random_stream() { return rng_; }

    /// The output has the input's shape.
    shape<4> output_shape(const shape<4>& input) const { return input; }

  private:
    friend layer_access;

    // Output pixel (i, j) reads the source at (a·i + b·j + c, d·i + e·j + f) (rows, columns).
    struct inverse_map {
        double a, b, c, d, e, f;
    };

    bool augments() const {
        return options_.translation > 0 || options_.rotation > 0 || options_.zoom > 0;
    }

    /// Training: each image through its own random transform; inference: `y = x`.
    void compute_forward(const tensor<T, 4>& x, tensor<T, 4>& y, mode m) {
        last_mode_ = m;
        if (m == mode::inference || !augments()) {
            std::copy(x.data(), x.data() + x.size(), y.data());
            return;
        }
        const auto& s = x.shape();
        maps_.resize(s[0]); // the same size: no allocation
        const double h = static_cast<double>(s[2]), w = static_cast<double>(s[3]);
        const double ci = (h - 1) / 2, cj = (w - 1) / 2;
        for (auto& map : maps_) {
            const double angle =
                (2 * rng_.uniform() - 1) * options_.rotation * 2 * std::numbers::pi;
            const double scale = 1 + (2 * rng_.uniform() - 1) * options_.zoom;
            const double ti = (2 * rng_.uniform() - 1) * options_.translation * h;
            const double tj = (2 * rng_.uniform() - 1) * options_.translation * w;
            // Forward: p' = c + s·R(p - c) + t; inverse: p = c + R⁻¹(p' - c - t) / s.
            const double cos = std::cos(angle) / scale, sin = std::sin(angle) / scale;
            map.a = cos;
            map.b = sin;
            map.d = -sin;
            map.e = cos;
            map.c = ci - cos * (ci + ti) - sin * (cj + tj);
            map.f = cj + sin * (ci + ti) - cos * (cj + tj);
        }
        for_each_tap(
            s,
            [&](std::size_t out, std::size_t in, T weight) {
                y.data()[out] += weight * x.data()[in];
            },
            y);
    }

    /// `dx`: dy carried back along the same taps (the transpose of forward's sampling).
    void compute_backward(const tensor<T, 4>& x, const tensor<T, 4>&, const tensor<T, 4>& dy,
                          tensor<T, 4>* dx) const {
        if (dx == nullptr) {
            return;
        }
        if (last_mode_ == mode::inference || !augments()) {
            std::copy(dy.data(), dy.data() + dy.size(), dx->data());
            return;
        }
        if (maps_.size() != x.shape()[0]) {
            throw std::logic_error("random_affine::backward: no training forward ran for input "
                                   "shape " +
                                   format_shape(x.shape()));
        }
        for_each_tap(
            x.shape(),
            [&](std::size_t out, std::size_t in, T weight) {
                dx->data()[in] += weight * dy.data()[out];
            },
            *dx);
    }

    /// Calls `tap(output index, input index, weight)` for the (up to) four bilinear taps of
    /// every output element, after zeroing `target`.
    template <class Tap>
    void for_each_tap(const shape<4>& s, Tap tap, tensor<T, 4>& target) const {
        std::fill(target.data(), target.data() + target.size(), T(0));
        const std::size_t channels = s[1], height = s[2], width = s[3];
        const std::size_t plane = height * width;
        for (std::size_t n = 0; n < s[0]; ++n) {
            const inverse_map& m = maps_[n];
            for (std::size_t i = 0; i < height; ++i) {
                for (std::size_t j = 0; j < width; ++j) {
                    const double di = static_cast<double>(i), dj = static_cast<double>(j);
                    const double si = m.a * di + m.b * dj + m.c;
                    const double sj = m.d * di + m.e * dj + m.f;
                    const double fi = std::floor(si), fj = std::floor(sj);
                    const double wi = si - fi, wj = sj - fj;
                    const auto i0 = static_cast<std::ptrdiff_t>(fi);
                    const auto j0 = static_cast<std::ptrdiff_t>(fj);
                    for (std::ptrdiff_t u = 0; u < 2; ++u) {
                        for (std::ptrdiff_t v = 0; v < 2; ++v) {
                            const std::ptrdiff_t ii = i0 + u, jj = j0 + v;
                            if (ii < 0 || jj < 0 || ii >= static_cast<std::ptrdiff_t>(height) ||
                                jj >= static_cast<std::ptrdiff_t>(width)) {
                                continue;
                            }
                            const auto weight =
                                static_cast<T>((u == 0 ? 1 - wi : wi) * (v == 0 ? 1 - wj : wj));
                            const std::size_t in_pixel =
                                static_cast<std::size_t>(ii) * width + static_cast<std::size_t>(jj);
                            const std::size_t out_pixel = i * width + j;
                            for (std::size_t c = 0; c < channels; ++c) {
                                const std::size_t base = (n * channels + c) * plane;
                                tap(base + out_pixel, base + in_pixel, weight);
                            }
                        }
                    }
                }
            }
        }
    }

    random_affine_options options_;
    random_engine rng_;
    std::vector<inverse_map> maps_;
    mode last_mode_ = mode::inference;
};

/// Random shifts only: random_affine with `translation = factor` (Keras' RandomTranslation).
/// @ingroup layers
template <std::floating_point T = float>
class random_translation : public random_affine<T> {
  public:
    /// Shifts of up to `factor` of the height and of the width.
    explicit random_translation(double factor, std::uint64_t seed = 0)
        : random_affine<T>(random_affine_options{.translation = factor, .seed = seed}) {}
};

/// Random rotations only: random_affine with `rotation = factor` (Keras' RandomRotation).
/// @ingroup layers
template <std::floating_point T = float>
class random_rotation : public random_affine<T> {
  public:
    /// Rotations of up to `factor` of a full turn either way.
    explicit random_rotation(double factor, std::uint64_t seed = 0)
        : random_affine<T>(random_affine_options{.rotation = factor, .seed = seed}) {}
};

/// Random zoom only: random_affine with `zoom = factor` (Keras' RandomZoom).
/// @ingroup layers
template <std::floating_point T = float>
class random_zoom : public random_affine<T> {
  public:
    /// Scaling by a factor in [1 - factor, 1 + factor].
    explicit random_zoom(double factor, std::uint64_t seed = 0)
        : random_affine<T>(random_affine_options{.zoom = factor, .seed = seed}) {}
};

} // namespace xtnn
