/// @file
/// Adagrad: per-parameter steps shrinking with the accumulated squared gradients.
#pragma once

#include <algorithm>
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

/// Options of adagrad. Defaults are PyTorch's.
/// @ingroup optimizers
struct adagrad_options {
    double learning_rate = 0.01;            ///< Step size η (> 0).
    double epsilon = 1e-10;                 ///< Added to √s (> 0).
    double initial_accumulator_value = 0.0; ///< Starting value of s (≥ 0).
    double weight_decay = 0.0;              ///< L2 penalty λ added to the gradient (≥ 0).
};

/// Adagrad (Duchi et al.), with PyTorch's update rule.
///
/// With g = ∇w + λ w: `s ← s + g²`, `w ← w - η g / (√s + ε)`; s starts at
/// `initial_accumulator_value`.
/// @tparam T the parameters' scalar type.
/// @throws config_error for a learning rate ≤ 0, ε ≤ 0, or a negative accumulator or decay.
/// @code
/// xtnn::adagrad opt({.learning_rate = 0.1});
/// @endcode
/// @ingroup optimizers
template <std::floating_point T = float>
class adagrad : public detail::optimizer_base<adagrad<T>, T, 1> {
    using base = detail::optimizer_base<adagrad<T>, T, 1>;
    friend base;

  public:
    static constexpr std::string_view name = "adagrad"; ///< The optimizer's name.

    /// `adagrad({})`: the default options, as `adagrad()`.
    explicit adagrad(detail::empty_braces) : adagrad() {}
    /// An optimizer with the given options.
    explicit adagrad(adagrad_options options = {})
        : base(options.learning_rate), options_(options) {
        detail::require_option(options.epsilon > 0.0, "adagrad", "epsilon", "> 0", options.epsilon);
        detail::require_option(options.initial_accumulator_value >= 0.0, "adagrad",
                               "initial_accumulator_value", ">= 0",
                               options.initial_accumulator_value);
        detail::require_option(options.weight_decay >= 0.0, "adagrad", "weight_decay", ">= 0",
                               options.weight_decay);
    }

    /// The options (the learning rate there is the initial one).
    const adagrad_options& options() const { return options_; }

  private:
    void update(std::span<T> w, std::span<const T> dw, std::array<std::span<T>, 1> state, T rate) {
        const T eps = static_cast<T>(options_.epsilon);
        const T decay = static_cast<T>(options_.weight_decay);
        T* s = state[0].data();
        if (this->iterations() == 1) {
            std::fill(s, s + w.size(), static_cast<T>(options_.initial_accumulator_value));
        }
        detail::simd_for_each<T>(
            w.size(),
            [=](auto& wi, auto gi, auto& si) {
                using std::sqrt;
                gi += decay * wi;
                si += gi * gi;
                wi -= rate * gi / (sqrt(si) + eps);
            },
            w.data(), dw.data(), s);
    }

    adagrad_options options_;
};

} // namespace xtnn
