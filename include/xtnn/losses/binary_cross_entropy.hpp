/// @file
/// Binary cross-entropy, on probabilities or (more stably) on logits.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/math.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/losses/elementwise_loss.hpp>

namespace xtnn {

/// Binary cross-entropy: `L = mean_i -(t_i log p_i + (1 - t_i) log(1 - p_i))`.
///
/// With `from_logits = false` (default) the prediction holds probabilities p in [0, 1], as
/// after a sigmoid; each log is clamped at -100 (as PyTorch's BCELoss) and the gradient
/// `(p - t) / (p (1 - p)) / n` uses a denominator of at least 1e-12, so saturated outputs give
/// large but finite numbers. With `from_logits = true` the prediction holds logits z, and
/// `ℓ = max(z, 0) - z t + log(1 + e^-|z|)` with gradient `(σ(z) - t) / n` is exact for any z
/// (PyTorch's BCEWithLogitsLoss): prefer it. Targets are in [0, 1]; shapes alike, any rank.
/// @throws shape_error if the shapes differ.
/// @code
/// float l = xtnn::binary_cross_entropy{.from_logits = true}.value_and_gradient(z, t, dz);
/// @endcode
/// @ingroup losses
struct binary_cross_entropy {
    static constexpr std::string_view name = "binary_cross_entropy"; ///< The loss's name.
    bool from_logits = false; ///< Whether the prediction holds logits instead of probabilities.

    /// The mean binary cross-entropy.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value(const tensor<T, N>& prediction, const Y& target,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return from_logits ? detail::elementwise_mean_loss(prediction, target, nullptr,
                                                           sample_weight, name, logits<T>)
                           : detail::elementwise_mean_loss(prediction, target, nullptr,
                                                           sample_weight, name, probabilities<T>);
    }
    /// The mean binary cross-entropy; its gradient written into `gradient`.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value_and_gradient(const tensor<T, N>& prediction, const Y& target, tensor<T, N>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return from_logits ? detail::elementwise_mean_loss(prediction, target, &gradient,
                                                           sample_weight, name, logits<T>)
                           : detail::elementwise_mean_loss(prediction, target, &gradient,
                                                           sample_weight, name, probabilities<T>);
    }

    // Other arguments: a compile-time sentence saying what the loss takes.
    XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS("binary_cross_entropy")

  private:
    template <std::floating_point T>
    static std::pair<T, T> probabilities(T p, T t) {
        const T log_p = std::max(std::log(p), T(-100));
        const T log_q = std::max(std::log1p(-p), T(-100));
        const T value = -(t * log_p + (T(1) - t) * log_q);
        const T denominator = std::max(p * (T(1) - p), static_cast<T>(1e-12));
        return {value, (p - t) / denominator};
    }
    template <std::floating_point T>
    static std::pair<T, T> logits(T z, T t) {
        return {detail::log1p_exp(z) - z * t, detail::logistic(z) - t};
    }
};

} // namespace xtnn
