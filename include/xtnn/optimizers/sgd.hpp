/// @file
/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/options.hpp>
#include <xtnn/optimizers/optimizer_base.hpp>

namespace xtnn {

/// Options of sgd. Defaults are PyTorch's, except the learning rate (PyTorch has none).
/// @ingroup optimizers
struct sgd_options {
    double learning_rate = 0.01; ///< Step size (> 0).
    double momentum = 0.0;       ///< Momentum factor μ (≥ 0, < 1).
    bool nesterov = false;       ///< Nesterov momentum (needs momentum > 0).
    double weight_decay = 0.0;   ///< L2 penalty λ added to the gradient (≥ 0).
};

/// Stochastic gradient descent, with PyTorch's update rule.
///
/// With g = ∇w + λ w: without momentum `w ← w - η g`; with momentum `b ← μ b + g`
/// (b starts at 0), then `w ← w - η b`, or with Nesterov `w ← w - η (g + μ b)`.
/// @tparam T the parameters' scalar type.
/// @throws config_error for a learning rate ≤ 0, a momentum outside [0, 1), a negative
/// weight decay, or Nesterov without momentum.
/// @code
/// xtnn::sgd opt({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
/// auto params = model.parameters();
/// opt.step(params);
/// @endcode
/// @ingroup optimizers
template <std::floating_point T = float>
class sgd : public detail::optimizer_base<sgd<T>, T, 1> {
    using base = detail::optimizer_base<sgd<T>, T, 1>;
    friend base;

  public:
    static constexpr std::string_view name = "sgd"; ///< The optimizer's name.

    /// `sgd({})`: the default options, as `sgd()`.
    explicit sgd(detail::empty_braces) : sgd() {}
    /// An optimizer with the given options.
    explicit sgd(sgd_options options = {}) : base(options.learning_rate), options_(options) {
        detail::require_option(options.momentum >= 0.0 && options.momentum < 1.0, "sgd", "momentum",
                               "in [0, 1)", options.momentum);
        detail::require_option(options.weight_decay >= 0.0, "sgd", "weight_decay", ">= 0",
                               options.weight_decay);
        detail::require_option(!options.nesterov || options.momentum > 0.0, "sgd",
                               "momentum (with nesterov)", "> 0", options.momentum);
    }

    /// The options (the learning rate there is the initial one).
    const sgd_options& options() const { return options_; }

  private:
    void update(std::span<T> w, std::span<const T> dw, std::array<std::span<T>, 1> state, T rate) {
        const T mu = static_cast<T>(options_.momentum);
        const T decay = static_cast<T>(options_.weight_decay);
        T* b = state[0].data();
        const std::size_t n = w.size();
        if (options_.momentum == 0.0) {
            for (std::size_t i = 0; i < n; ++i) {
                w[i] -= rate * (dw[i] + decay * w[i]);
            }
        } else if (options_.nesterov) {
            for (std::size_t i = 0; i < n; ++i) {
                const T g = dw[i] + decay * w[i];
                b[i] = mu * b[i] + g;
                w[i] -= rate * (g + mu * b[i]);
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                const T g = dw[i] + decay * w[i];
                b[i] = mu * b[i] + g;
                w[i] -= rate * b[i];
            }
        }
    }

    sgd_options options_;
};

} // namespace xtnn
