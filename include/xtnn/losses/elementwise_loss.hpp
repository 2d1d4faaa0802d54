/// @file
/// The shared kernel of losses that are a mean of one term per element (MSE, MAE, Huber, BCE).
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn::detail {

/// The sentences of the regression losses' fallback overloads (mean_squared_error,
/// mean_absolute_error, huber, binary_cross_entropy): called only for arguments that their
/// real overloads do not take.
template <class P, class Y, class G = P>
consteval rejected reject_regression_arguments() {
    static_assert(any_tensor<P> && std::floating_point<element_of<P>>,
                  "xtnn: a regression loss (mean_squared_error, mean_absolute_error, huber, "
                  "binary_cross_entropy) takes the prediction as an xtnn::tensor of floats or "
                  "doubles");
    static_assert(!(any_tensor<P> && std::floating_point<element_of<P>>) || std::same_as<Y, P>,
                  "xtnn: a regression loss (mean_squared_error, mean_absolute_error, huber, "
                  "binary_cross_entropy) takes targets of the prediction's type: the same rank "
                  "(batch, outputs) and scalar type; the note 'required from' names the loss");
    static_assert(!(any_tensor<P> && std::same_as<Y, P>) || std::same_as<G, P>,
                  "xtnn: a regression loss writes its gradient into a tensor of the prediction's "
                  "type");
    return {};
}

/// Returns mean_i term(p_i, t_i).first and, if `gradient` is not null, writes
/// d(mean)/dp_i = term(p_i, t_i).second / n into it (resized to p's shape if needed).
/// `term` returns {value, d value / d p} for one element.
template <std::floating_point T, std::size_t N, class Term>
T elementwise_mean_loss(const tensor<T, N>& prediction, const tensor<T, N>& target,
                        std::type_identity_t<tensor<T, N>>* gradient, std::string_view where,
                        Term term) {
    require_shape(prediction.shape(), target.shape(), {where, "value"},
                  "prediction and target shapes differ");
    const std::size_t n = prediction.size();
    if (n == 0) {
        throw shape_error(mismatch_message(std::string(where) + "::value", "empty prediction",
                                           "at least one element",
                                           format_shape(prediction.shape())));
    }
    const T* p = prediction.data();
    const T* t = target.data();
    const T inv_n = T(1) / static_cast<T>(n);
    T total = 0;
    if (gradient == nullptr) {
        for (std::size_t i = 0; i < n; ++i) {
            total += term(p[i], t[i]).first;
        }
        return total * inv_n;
    }
    if (gradient->shape() != prediction.shape()) {
        gradient->resize(prediction.shape());
    }
    T* g = gradient->data();
    for (std::size_t i = 0; i < n; ++i) {
        const auto [value, derivative] = term(p[i], t[i]);
        total += value;
        g[i] = derivative * inv_n;
    }
    return total * inv_n;
}

} // namespace xtnn::detail

/// @cond XTNN_DETAIL
/// The fallback overloads of a regression loss: any arguments its real value() and
/// value_and_gradient() do not take get reject_regression_arguments()' sentence at compile time.
/// They return detail::rejected, so xtnn::loss still rejects such arguments.
#define XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS                                                      \
    template <class P, class Y>                                                                    \
    ::xtnn::detail::rejected value(const P&, const Y&) const {                                     \
        return ::xtnn::detail::reject_regression_arguments<P, Y>();                                \
    }                                                                                              \
    template <class P, class Y, class G>                                                           \
    ::xtnn::detail::rejected value_and_gradient(const P&, const Y&, G&) const {                    \
        return ::xtnn::detail::reject_regression_arguments<P, Y, G>();                             \
    }
/// @endcond
