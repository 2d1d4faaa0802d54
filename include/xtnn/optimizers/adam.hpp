/// @file
/// Adam and AdamW: adaptive moment estimation, with coupled or decoupled weight decay.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/options.hpp>
#include <xtnn/detail/simd.hpp>
#include <xtnn/optimizers/optimizer_base.hpp>

namespace xtnn {

/// Options of adam and adamw. Defaults are PyTorch's (weight decay: adam 0, adamw 0.01).
/// @ingroup optimizers
struct adam_options {
    double learning_rate = 1e-3; ///< Step size η (> 0).
    double beta1 = 0.9;          ///< Decay of the first moment (in [0, 1)).
    double beta2 = 0.999;        ///< Decay of the second moment (in [0, 1)).
    double epsilon = 1e-8;       ///< Added to √v̂ to avoid division by zero (> 0).
    std::optional<double> weight_decay =
        std::nullopt; ///< λ ≥ 0; unset: the type's default (adam 0, adamw 0.01).
};

namespace detail {

/// Adam's update; `Decoupled` selects AdamW's weight decay.
template <class Derived, std::floating_point T, bool Decoupled>
class adam_rule : public optimizer_base<Derived, T, 2> {
    using base = optimizer_base<Derived, T, 2>;
    friend base;

  public:
    /// The options, with the weight decay resolved.
    const adam_options& options() const { return options_; }
    /// The weight decay λ in use.
    double weight_decay() const { return *options_.weight_decay; }

  protected:
    adam_rule(adam_options options, double default_decay)
        : base(options.learning_rate), options_(options) {
        if (!options_.weight_decay) {
            options_.weight_decay = default_decay;
        }
        const std::string where(Derived::name);
        require_option(*options_.weight_decay >= 0.0, where, "weight_decay", ">= 0",
                       *options_.weight_decay);
        require_option(options_.beta1 >= 0.0 && options_.beta1 < 1.0, where, "beta1", "in [0, 1)",
                       options_.beta1);
        require_option(options_.beta2 >= 0.0 && options_.beta2 < 1.0, where, "beta2", "in [0, 1)",
                       options_.beta2);
        require_option(options_.epsilon > 0.0, where, "epsilon", "> 0", options_.epsilon);
    }

  private:
    void update(std::span<T> w, std::span<const T> dw, std::array<std::span<T>, 2> state, T rate) {
        const double t = static_cast<double>(this->iterations());
        const T b1 = static_cast<T>(options_.beta1);
        const T b2 = static_cast<T>(options_.beta2);
        // m̂ = m / (1 - β1ᵗ), v̂ = v / (1 - β2ᵗ); w -= η m̂ / (√v̂ + ε), computed as PyTorch
        // does: w -= (η / c1) m / (√v / √c2 + ε).
        const T step = rate / static_cast<T>(1.0 - std::pow(options_.beta1, t));
        const T inv_sqrt_c2 = static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(options_.beta2, t)));
        const T eps = static_cast<T>(options_.epsilon);
        const T decay = static_cast<T>(*options_.weight_decay);
        simd_for_each<T>(
            w.size(),
            [=](auto& wi, auto gi, auto& mi, auto& vi) {
                using std::sqrt;
                if constexpr (Decoupled) {
                    wi -= rate * decay * wi; // AdamW: w ← w (1 - ηλ), outside the moments
                } else {
                    gi += decay * wi; // Adam: L2 penalty inside the gradient
                }
                mi = b1 * mi + (T(1) - b1) * gi;
                vi = b2 * vi + (T(1) - b2) * gi * gi;
                wi -= step * mi / (sqrt(vi) * inv_sqrt_c2 + eps);
            },
            w.data(), dw.data(), state[0].data(), state[1].data());
    }

    adam_options options_;
};

} // namespace detail

/// Adam (Kingma & Ba), with PyTorch's update rule and an optional L2 penalty.
///
/// Per step t (from 1), with g = ∇w + λ w:
/// `m ← β1 m + (1-β1) g`, `v ← β2 v + (1-β2) g²`,
/// `w ← w - η m̂ / (√v̂ + ε)` with `m̂ = m / (1-β1ᵗ)`, `v̂ = v / (1-β2ᵗ)`.
/// @tparam T the parameters' scalar type.
/// @throws config_error for a learning rate ≤ 0, β outside [0, 1) or ε ≤ 0.
/// @code
/// xtnn::adam opt({.learning_rate = 1e-3});
/// auto params = model.parameters();
/// opt.step(params);
/// @endcode
/// @ingroup optimizers
template <std::floating_point T = float>
class adam : public detail::adam_rule<adam<T>, T, false> {
  public:
    static constexpr std::string_view name = "adam"; ///< The optimizer's name.
    /// `adam({})`: the default options, as `adam()`.
    explicit adam(detail::empty_braces) : adam() {}
    /// An optimizer with the given options (weight decay defaults to 0).
    explicit adam(adam_options options = {}) : detail::adam_rule<adam<T>, T, false>(options, 0.0) {}
};

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, PyTorch's rule.
///
/// As adam with g = ∇w, plus `w ← w (1 - η λ)` before the moment update, so the decay does
/// not pass through the adaptive scaling. Default λ = 0.01.
/// @tparam T the parameters' scalar type.
/// @code
/// xtnn::adamw opt({.learning_rate = 1e-3, .weight_decay = 0.05});
/// @endcode
/// @ingroup optimizers
template <std::floating_point T = float>
class adamw : public detail::adam_rule<adamw<T>, T, true> {
  public:
    static constexpr std::string_view name = "adamw"; ///< The optimizer's name.
    /// `adamw({})`: the default options, as `adamw()`.
    explicit adamw(detail::empty_braces) : adamw() {}
    /// An optimizer with the given options (weight decay defaults to 0.01).
    explicit adamw(adam_options options = {})
        : detail::adam_rule<adamw<T>, T, true>(options, 0.01) {}
};

} // namespace xtnn
