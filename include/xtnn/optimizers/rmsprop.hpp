/// @file
/// RMSprop: gradients divided by a running root mean square.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/options.hpp>
#include <xtnn/detail/simd.hpp>
#include <xtnn/optimizers/optimizer_base.hpp>

namespace xtnn {

/// Options of rmsprop. Defaults are PyTorch's.
/// @ingroup optimizers
struct rmsprop_options {
    double learning_rate = 0.01; ///< Step size η (> 0).
    double alpha = 0.99;         ///< Decay of the mean square (in [0, 1)).
    double epsilon = 1e-8;       ///< Added to the root mean square (> 0).
    double momentum = 0.0;       ///< Momentum factor μ (in [0, 1)).
    bool centered = false;       ///< Divide by the estimated variance instead of the raw square.
    double weight_decay = 0.0;   ///< L2 penalty λ added to the gradient (≥ 0).
};

/// RMSprop (Hinton), with PyTorch's update rule.
///
/// With g = ∇w + λ w: `s ← α s + (1-α) g²`; centered: `ḡ ← α ḡ + (1-α) g`, `d = √(s - ḡ²) + ε`,
/// else `d = √s + ε`. Without momentum `w ← w - η g / d`; with it `b ← μ b + g / d`,
/// `w ← w - η b`.
/// @tparam T the parameters' scalar type.
/// @throws config_error for a learning rate ≤ 0, α or μ outside [0, 1), ε ≤ 0 or λ < 0.
/// @code
/// xtnn::rmsprop opt({.learning_rate = 1e-3, .alpha = 0.9});
/// @endcode
/// @ingroup optimizers
template <std::floating_point T = float>
class rmsprop : public detail::optimizer_base<rmsprop<T>, T, 3> {
    using base = detail::optimizer_base<rmsprop<T>, T, 3>;
    friend base;

  public:
    static constexpr std::string_view name = "rmsprop"; ///< The optimizer's name.

    /// `rmsprop({})`: the default options, as `rmsprop()`.
    explicit rmsprop(detail::empty_braces) : rmsprop() {}
    /// An optimizer with the given options.
    explicit rmsprop(rmsprop_options options = {})
        : base(options.learning_rate), options_(options) {
        detail::require_option(options.alpha >= 0.0 && options.alpha < 1.0, "rmsprop", "alpha",
                               "in [0, 1)", options.alpha);
        detail::require_option(options.epsilon > 0.0, "rmsprop", "epsilon", "> 0", options.epsilon);
        detail::require_option(options.momentum >= 0.0 && options.momentum < 1.0, "rmsprop",
                               "momentum", "in [0, 1)", options.momentum);
        detail::require_option(options.weight_decay >= 0.0, "rmsprop", "weight_decay", ">= 0",
                               options.weight_decay);
    }

    /// The options (the learning rate there is the initial one).
    const rmsprop_options& options() const { return options_; }

  private:
    // state: 0 mean square s, 1 mean gradient ḡ (centered), 2 momentum buffer b.
    void update(std::span<T> w, std::span<const T> dw, std::array<std::span<T>, 3> state, T rate) {
        const T a = static_cast<T>(options_.alpha);
        const T eps = static_cast<T>(options_.epsilon);
        const T mu = static_cast<T>(options_.momentum);
        const T decay = static_cast<T>(options_.weight_decay);
        const bool centered = options_.centered;
        const bool momentum = options_.momentum > 0.0;
        detail::simd_for_each<T>(
            w.size(),
            [=](auto& wi, auto gi, auto& si, auto& mean, auto& bi) {
                using std::sqrt;
                gi += decay * wi;
                si = a * si + (T(1) - a) * gi * gi;
                auto variance = si;
                if (centered) {
                    mean = a * mean + (T(1) - a) * gi;
                    variance -= mean * mean;
                }
                const auto scaled = gi / (sqrt(variance) + eps);
                if (momentum) {
                    bi = mu * bi + scaled;
                    wi -= rate * bi;
                } else {
                    wi -= rate * scaled;
                }
            },
            w.data(), dw.data(), state[0].data(), state[1].data(), state[2].data());
    }

    rmsprop_options options_;
};

} // namespace xtnn
