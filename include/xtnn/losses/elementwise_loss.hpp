/// @file
/// The shared kernel of losses that are a mean of one term per element (MSE, MAE, Huber, BCE).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/losses/sample_weights.hpp>

namespace xtnn::detail {

/// Whether an elementwise loss takes rank-M targets for a rank-N prediction: the same rank, or
/// targets `(batch)` for a one-output prediction `(batch, 1)`.
template <std::size_t N, std::size_t M>
inline constexpr bool elementwise_targets = N >= 1 && (M == N || (N == 2 && M == 1));

/// Satisfied by the target tensors an elementwise loss takes for a `tensor<T, N>` prediction.
template <class Y, class T, std::size_t N>
concept elementwise_target =
    any_tensor<Y> && std::same_as<element_of<Y>, T> && elementwise_targets<N, rank_of<Y>>;

/// Whether an elementwise loss's value_and_gradient (or value, with G = P) takes these arguments.
template <class P, class Y, class G, class... W>
inline constexpr bool elementwise_arguments =
    any_tensor<P>&& std::floating_point<element_of<P>>&&
        elementwise_target<Y, element_of<P>, rank_of<P>>&& std::same_as<G, P> &&
    sizeof...(W) <= 1 && (std::convertible_to<const W&, std::span<const element_of<P>>> && ...);

/// Checks the shapes of an elementwise loss's prediction and targets.
template <std::floating_point T, std::size_t N, std::size_t M>
void check_elementwise_shapes(const tensor<T, N>& prediction, const tensor<T, M>& target,
                              std::string_view where) {
    if constexpr (M == N) {
        require_shape(prediction.shape(), target.shape(), {where, "value"},
                      "prediction and target shapes differ");
    } else if (prediction.shape()[1] != 1 || target.shape()[0] != prediction.shape()[0]) {
        throw shape_error(mismatch_message(
            std::string(where) + "::value",
            "targets (batch) need a prediction with one output (batch, 1) and as many rows",
            "prediction (" + std::to_string(target.shape()[0]) + ", 1)",
            format_shape(prediction.shape()) + " for targets " + format_shape(target.shape())));
    }
    if (prediction.size() == 0) {
        throw shape_error(mismatch_message(std::string(where) + "::value", "empty prediction",
                                           "at least one element",
                                           format_shape(prediction.shape())));
    }
}

/// Returns the mean of term(p_i, t_i).first over the elements (or, with `weights`, the weighted
/// mean of the per-sample means, see row_weights) and, if `gradient` is not null, writes its
/// derivative with respect to each p_i into it (resized to p's shape if needed).
/// `term` returns {value, d value / d p} for one element.
template <std::floating_point T, std::size_t N, std::size_t M, class Term>
T elementwise_mean_loss(const tensor<T, N>& prediction, const tensor<T, M>& target,
                        std::type_identity_t<tensor<T, N>>* gradient, std::span<const T> weights,
                        std::string_view where, Term term) {
    check_elementwise_shapes(prediction, target, where);
    const std::size_t n = prediction.size();
    const std::size_t batch = prediction.shape()[0];
    const std::size_t row = n / batch;
    const auto rows = make_row_weights(weights, batch, row, where);
    const T* p = prediction.data();
    const T* t = target.data();
    T total = 0;
    if (gradient != nullptr && gradient->shape() != prediction.shape()) {
        gradient->resize(prediction.shape());
    }
    for (std::size_t r = 0; r < batch; ++r) {
        const T w = rows.weight(r);
        const T w_scale = w * rows.scale;
        for (std::size_t i = r * row; i < (r + 1) * row; ++i) {
            const auto [value, derivative] = term(p[i], t[i]);
            total += w * value;
            if (gradient != nullptr) {
                gradient->data()[i] = derivative * w_scale;
            }
        }
    }
    return total * rows.scale;
}

} // namespace xtnn::detail

/// @cond XTNN_DETAIL
/// The fallback overloads of the elementwise loss NAME (a string literal): any arguments its
/// real value() and value_and_gradient() do not take get one sentence at compile time saying
/// what it takes. They return detail::rejected, so xtnn::loss still rejects such arguments.
#define XTNN_DETAIL_REGRESSION_LOSS_FALLBACKS(NAME)                                                \
    template <class P, class Y, class... W>                                                        \
    std::enable_if_t<!::xtnn::detail::elementwise_arguments<P, Y, P, W...>,                        \
                     ::xtnn::detail::rejected>                                                     \
    value(const P&, const Y&, const W&...) const {                                                 \
        XTNN_DETAIL_REJECT_REGRESSION_ARGUMENTS(NAME, P, Y, P, W)                                  \
        return {};                                                                                 \
    }                                                                                              \
    template <class P, class Y, class G, class... W>                                               \
    std::enable_if_t<!::xtnn::detail::elementwise_arguments<P, Y, G, W...>,                        \
                     ::xtnn::detail::rejected>                                                     \
    value_and_gradient(const P&, const Y&, G&, const W&...) const {                                \
        XTNN_DETAIL_REJECT_REGRESSION_ARGUMENTS(NAME, P, Y, G, W)                                  \
        return {};                                                                                 \
    }

#define XTNN_DETAIL_REJECT_REGRESSION_ARGUMENTS(NAME, P, Y, G, W)                                  \
    static_assert(::xtnn::any_tensor<P> && std::floating_point<::xtnn::element_of<P>>,             \
                  "xtnn: " NAME " takes the prediction as an xtnn::tensor of floats or doubles, "  \
                  "e.g. (batch, outputs)");                                                        \
    XTNN_DETAIL_REQUIRE_TENSOR_OR(                                                                 \
        "xtnn: " NAME ": targets must have the prediction's shape:", "targets", output, Y,         \
        ::xtnn::element_of<P>, ::xtnn::rank_of<P>, (::xtnn::rank_of<P> == 2 ? 1 : 0));             \
    static_assert(std::same_as<G, P>,                                                              \
                  "xtnn: " NAME " writes its gradient into a tensor of the prediction's type");    \
    static_assert((std::convertible_to<const W&, std::span<const ::xtnn::element_of<P>>> && ...),  \
                  "xtnn: " NAME " takes sample weights (one per row) as a std::span of the "       \
                  "prediction's scalar type");                                                     \
    static_assert(sizeof...(W) <= 1, "xtnn: " NAME " takes one list of sample weights at most");
/// @endcond
