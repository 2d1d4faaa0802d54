/// @file
/// Huber loss: quadratic near zero, linear far from it.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/losses/elementwise_loss.hpp>

namespace xtnn {

/// Huber loss (PyTorch's HuberLoss): with e = p - t,
/// `ℓ(e) = e²/2` for |e| ≤ δ, else `δ (|e| - δ/2)`; L is the mean over every element.
///
/// Gradient: `e / n` for |e| ≤ δ, else `δ sign(e) / n`. Shapes: prediction and target alike.
/// @throws config_error if δ is not > 0. @throws shape_error if the shapes differ.
/// @code
/// float l = xtnn::huber{.delta = 0.5}.value(y, target);
/// @endcode
/// @ingroup losses
struct huber {
    static constexpr std::string_view name = "huber"; ///< The loss's name.
    double delta = 1.0;                               ///< Where the quadratic part ends (> 0).

    /// The Huber loss.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value(const tensor<T, N>& prediction, const Y& target,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        check();
        return detail::elementwise_mean_loss(prediction, target, nullptr, sample_weight, name,
                                             term<T>());
    }
    /// The Huber loss; its gradient written into `gradient`.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value_and_gradient(const tensor<T, N>& prediction, const Y& target, tensor<T, N>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        check();
        return detail::elementwise_mean_loss(prediction, target, &gradient, sample_weight, name,
                                             term<T>());
    }

    // Other arguments: a compile-time sentence saying what the loss takes.
    XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS("huber")

  private:
    void check() const { detail::require_option(delta > 0.0, "huber", "delta", "> 0", delta); }
    template <std::floating_point T>
    auto term() const {
        const T d = static_cast<T>(delta);
        return [d](T p, T t) -> std::pair<T, T> {
            const T e = p - t;
            const T a = std::abs(e);
            if (a <= d) {
                return {T(0.5) * e * e, e};
            }
            return {d * (a - T(0.5) * d), e > T(0) ? d : -d};
        };
    }
};

} // namespace xtnn
