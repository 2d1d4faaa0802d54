/// @file
/// Mean absolute error, for regression robust to outliers.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/tensor.hpp>
#include <xtnn/losses/elementwise_loss.hpp>

namespace xtnn {

/// Mean absolute error: `L = mean_i |p_i - t_i|` over every element (PyTorch's L1Loss).
///
/// Gradient: `sign(p_i - t_i) / n` (0 where p_i = t_i). Shapes: prediction and target alike.
/// @throws shape_error if the shapes differ.
/// @code
/// float l = xtnn::mean_absolute_error{}.value(y, target);
/// @endcode
/// @ingroup losses
struct mean_absolute_error {
    static constexpr std::string_view name = "mean_absolute_error"; ///< The loss's name.

    /// The mean absolute error.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value(const tensor<T, N>& prediction, const Y& target,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return detail::elementwise_mean_loss(prediction, target, nullptr, sample_weight, name,
                                             term<T>);
    }
    /// The mean absolute error; its gradient written into `gradient`.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value_and_gradient(const tensor<T, N>& prediction, const Y& target, tensor<T, N>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return detail::elementwise_mean_loss(prediction, target, &gradient, sample_weight, name,
                                             term<T>);
    }

    // Other arguments: a compile-time sentence saying what the loss takes.
    XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS("mean_absolute_error")

  private:
    template <std::floating_point T>
    static std::pair<T, T> term(T p, T t) {
        const T e = p - t;
        return {std::abs(e), e > T(0) ? T(1) : (e < T(0) ? T(-1) : T(0))};
    }
};

} // namespace xtnn
