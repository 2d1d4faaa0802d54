/// @file
/// The fused softmax + cross-entropy loss on logits: the default for classification.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/losses/sample_weights.hpp>

namespace xtnn {

namespace detail {

/// Whether softmax_cross_entropy's value_and_gradient (or value, with G = P) takes these
/// arguments: logits (batch, classes), integer class indices (batch) or one-hot rows of the
/// logits' type, a gradient of the logits' type, and at most one span of sample weights.
template <class P, class Y, class G, class... W>
inline constexpr bool
    softmax_arguments = any_tensor<P>&& rank_of<P> == 2 &&
                        std::floating_point<element_of<P>>&& any_tensor<Y> &&
                        ((rank_of<Y> == 1 && std::integral<element_of<Y>>) ||
                         (rank_of<Y> == 2 && std::same_as<element_of<Y>, element_of<P>>)) &&
                        std::same_as<G, P> && sizeof...(W) <= 1 &&
                        (std::convertible_to<const W&, std::span<const element_of<P>>> && ...);

} // namespace detail

/// Softmax cross-entropy on logits (PyTorch's CrossEntropyLoss, Keras'
/// `SparseCategoricalCrossentropy(from_logits=True)`).
///
/// For logits z (one row per sample) and p = softmax(z):
/// `ℓ = -Σ_j t_j log p_j = Σ_j t_j (logsumexp(z) - z_j)`, averaged over the batch.
/// Gradient: `dL/dz_j = (p_j Σ_k t_k - t_j) / batch`, i.e. `(p - onehot) / batch`.
/// logsumexp subtracts the row maximum, so logits of ±1e4 give exact, finite values.
///
/// Targets: class indices, any integral `tensor<I, 1>` of shape `(batch)` with values in
/// [0, classes); or one-hot / probability rows `(batch, classes)`. Logits: `(batch, classes)`.
/// @throws shape_error if the batch or class extents differ.
/// @throws std::out_of_range if a class index is outside [0, classes).
/// @code
/// xtnn::tensor<float, 2> dz;
/// float l = xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dz);
/// @endcode
/// @ingroup losses
struct softmax_cross_entropy {
    static constexpr std::string_view name = "softmax_cross_entropy"; ///< The loss's name.

    /// The mean cross-entropy for class-index targets; with `sample_weight` (one per row), the
    /// weighted mean.
    template <std::floating_point T, std::integral I>
    T value(const tensor<T, 2>& logits, const tensor<I, 1>& labels,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return compute(logits, labels, nullptr, sample_weight);
    }
    /// The mean cross-entropy for class-index targets; its gradient written into `gradient`.
    template <std::floating_point T, std::integral I>
    T value_and_gradient(const tensor<T, 2>& logits, const tensor<I, 1>& labels,
                         tensor<T, 2>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return compute(logits, labels, &gradient, sample_weight);
    }
    /// The mean cross-entropy for one-hot (or probability) targets.
    template <std::floating_point T>
    T value(const tensor<T, 2>& logits, const tensor<T, 2>& targets,
            std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return compute(logits, targets, nullptr, sample_weight);
    }
    /// The mean cross-entropy for one-hot targets; its gradient written into `gradient`.
    template <std::floating_point T>
    T value_and_gradient(const tensor<T, 2>& logits, const tensor<T, 2>& targets,
                         tensor<T, 2>& gradient,
                         std::type_identity_t<std::span<const T>> sample_weight = {}) const {
        return compute(logits, targets, &gradient, sample_weight);
    }

    /// Any other arguments do not compile, with a sentence saying what the loss takes.
    template <class P, class Y, class... W>
    std::enable_if_t<!detail::softmax_arguments<P, Y, P, W...>, detail::rejected>
    value(const P&, const Y&, const W&...) const {
        return reject<P, Y, P, W...>();
    }
    /// Any other arguments do not compile, with a sentence saying what the loss takes.
    template <class P, class Y, class G, class... W>
    std::enable_if_t<!detail::softmax_arguments<P, Y, G, W...>, detail::rejected>
    value_and_gradient(const P&, const Y&, G&, const W&...) const {
        return reject<P, Y, G, W...>();
    }

  private:
    template <class P, class Y, class G, class... W>
    static consteval detail::rejected reject() {
        constexpr bool logits_ok =
            any_tensor<P> && rank_of<P> == 2 && std::floating_point<element_of<P>>;
        static_assert(logits_ok, "xtnn: softmax_cross_entropy takes logits (batch, classes): a "
                                 "rank-2 xtnn::tensor of floats or doubles");
        static_assert(!logits_ok || (any_tensor<Y> && (rank_of<Y> == 1 || rank_of<Y> == 2)),
                      "xtnn: softmax_cross_entropy takes targets that are class indices (batch) "
                      "or one-hot rows (batch, classes): a rank-1 or rank-2 xtnn::tensor");
        static_assert(!logits_ok || !any_tensor<Y> || rank_of<Y> != 1 ||
                          std::integral<element_of<Y>>,
                      "xtnn: softmax_cross_entropy takes class indices (batch) as integers (for "
                      "example std::int64_t); got rank-1 targets of floats");
        static_assert(!logits_ok || !any_tensor<Y> || rank_of<Y> != 2 ||
                          std::same_as<element_of<Y>, element_of<P>>,
                      "xtnn: softmax_cross_entropy takes one-hot rows (batch, classes) of the "
                      "logits' scalar type");
        static_assert(!logits_ok || std::same_as<G, P>,
                      "xtnn: softmax_cross_entropy writes its gradient into a tensor of the "
                      "logits' type");
        static_assert(!logits_ok ||
                          (std::convertible_to<const W&, std::span<const element_of<P>>> && ...),
                      "xtnn: softmax_cross_entropy takes sample weights (one per row) as a "
                      "std::span of the logits' scalar type");
        static_assert(sizeof...(W) <= 1,
                      "xtnn: softmax_cross_entropy takes one list of sample weights at most");
        return {};
    }

    template <std::floating_point T, class Target>
    static T compute(const tensor<T, 2>& logits, const Target& target,
                     std::type_identity_t<tensor<T, 2>>* gradient, std::span<const T> weights) {
        constexpr bool indices = Target::rank == 1;
        const std::size_t batch = logits.shape()[0];
        const std::size_t classes = logits.shape()[1];
        if constexpr (indices) {
            if (target.shape()[0] != batch) {
                throw shape_error(detail::mismatch_message(
                    "softmax_cross_entropy::value", "one label per row of logits",
                    "(" + std::to_string(batch) + ",)", format_shape(target.shape())));
            }
        } else {
            detail::require_shape(logits.shape(), target.shape(), {name, "value"},
                                  "logits and targets differ");
        }
        if (batch == 0 || classes == 0) {
            throw shape_error(detail::mismatch_message("softmax_cross_entropy::value",
                                                       "empty logits", "(batch > 0, classes > 0)",
                                                       format_shape(logits.shape())));
        }
        if (gradient != nullptr && gradient->shape() != logits.shape()) {
            gradient->resize(logits.shape());
        }
        const auto rows = detail::make_row_weights(weights, batch, 1, name);
        T total = 0;
        for (std::size_t r = 0; r < batch; ++r) {
            const T w = rows.weight(r);
            const T inv_batch = w * rows.scale; // 1 / batch without weights
            const T* z = logits.data() + r * classes;
            // Without a gradient buffer the exponentials are not needed after the sum; with
            // one, they become the gradient row.
            T* e = gradient != nullptr ? gradient->data() + r * classes : nullptr;
            const auto [m, sum] = detail::shifted_exp_sum(z, classes, e);
            const T log_sum = m + std::log(sum); // logsumexp(z)
            if constexpr (indices) {
                const std::size_t y = detail::class_index(target.data()[r], classes, r,
                                                          "softmax_cross_entropy::value");
                total += w * (log_sum - z[y]);
                if (e != nullptr) {
                    const T inv_sum = inv_batch / sum;
                    for (std::size_t j = 0; j < classes; ++j) {
                        e[j] *= inv_sum;
                    }
                    e[y] -= inv_batch;
                }
            } else {
                const T* t = target.data() + r * classes;
                T mass = 0;
                T row_total = 0;
                for (std::size_t j = 0; j < classes; ++j) {
                    row_total += t[j] * (log_sum - z[j]);
                    mass += t[j];
                }
                total += w * row_total;
                if (e != nullptr) {
                    const T scale = mass * inv_batch / sum;
                    for (std::size_t j = 0; j < classes; ++j) {
                        e[j] = e[j] * scale - t[j] * inv_batch;
                    }
                }
            }
        }
        return total * rows.scale;
    }
};

} // namespace xtnn
