/// @file
/// Mean squared error, for regression.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/tensor.hpp>
#include <xtnn/losses/elementwise_loss.hpp>

namespace xtnn {

/// @defgroup losses Losses
/// Batch-mean losses with their gradients with respect to the prediction.

/// Mean squared error: `L = mean_i (p_i - t_i)²` over every element (PyTorch's MSELoss).
///
/// Gradient: `dL/dp_i = 2 (p_i - t_i) / n`, n the number of elements. Shapes: prediction and
/// target alike, any rank, e.g. `(batch, outputs)`.
/// @throws shape_error if the shapes differ.
/// @code
/// float l = xtnn::mean_squared_error{}.value_and_gradient(y, target, dy);
/// @endcode
/// @ingroup losses
struct mean_squared_error {
    static constexpr std::string_view name = "mean_squared_error"; ///< The loss's name.

    /// The mean squared error.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value(const tensor<T, N>& prediction, const Y& target,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return detail::elementwise_mean_loss(prediction, target, nullptr, sample_weight, name,
                                             term<T>);
    }
    /// The mean squared error; its gradient written into `gradient`.
    template <std::floating_point T, std::size_t N, detail::elementwise_target<T, N> Y>
    T value_and_gradient(const tensor<T, N>& prediction, const Y& target, tensor<T, N>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return detail::elementwise_mean_loss(prediction, target, &gradient, sample_weight, name,
                                             term<T>);
    }

    // Other arguments: a compile-time sentence saying what the loss takes.
    XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS("mean_squared_error")

  private:
    template <std::floating_point T>
    static std::pair<T, T> term(T p, T t) {
        const T e = p - t;
        return {e * e, T(2) * e};
    }
};

} // namespace xtnn
