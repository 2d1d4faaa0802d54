/// @file
/// softmax and log_softmax along the last axis, as layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/math.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

namespace detail {

/// What softmax_layer and log_softmax_layer share: types, shapes and checks.
template <std::floating_point T, std::size_t N, bool Log>
class normalized_exponential : public layer_base<normalized_exponential<T, N, Log>, T, N, N> {
  public:
    static_assert(N >= 1, "xtnn: softmax needs a tensor of rank >= 1");
    static constexpr std::string_view name = Log ? "log_softmax" : "softmax";
    /// Over the last axis: each sample alone when there is a batch axis (rank >= 2).
    static constexpr bool trains_by_samples = N >= 2;
    /// Over the last axis, step by step: a padding mask goes on unchanged.
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::passes;

    shape<N> output_shape(const shape<N>& input) const {
        if (input[N - 1] == 0) {
            throw shape_error(mismatch_message(std::string(name) + "::forward",
                                               "the last axis is empty", "at least one class",
                                               format_shape(input)));
        }
        return input;
    }

  private:
    friend layer_access;

    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode) const {
        const std::size_t n = x.shape()[N - 1];
        const std::size_t rows = x.size() / n;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* z = x.data() + r * n;
            T* out = y.data() + r * n;
            const auto [m, sum] = shifted_exp_sum(z, n, out);
            if constexpr (Log) {
                // log softmax = z - m - log Σ exp(z - m)
                const T shift = m + std::log(sum);
                for (std::size_t j = 0; j < n; ++j) {
                    out[j] = z[j] - shift;
                }
            } else {
                const T inv = T(1) / sum;
                for (std::size_t j = 0; j < n; ++j) {
                    out[j] *= inv;
                }
            }
        }
    }

    void compute_backward(const tensor<T, N>& x, const tensor<T, N>& y, const tensor<T, N>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        const std::size_t n = x.shape()[N - 1];
        const std::size_t rows = x.size() / n;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* s = y.data() + r * n;
            const T* g = dy.data() + r * n;
            T* d = dx->data() + r * n;
            if constexpr (Log) {
                // y = log p: dx = dy - p Σ dy
                T total = 0;
                for (std::size_t j = 0; j < n; ++j) {
                    total += g[j];
                }
                for (std::size_t j = 0; j < n; ++j) {
                    d[j] = g[j] - std::exp(s[j]) * total;
                }
            } else {
                // y = p: dx = p ⊙ (dy - Σ dy ⊙ p)
                T dot = 0;
                for (std::size_t j = 0; j < n; ++j) {
                    dot += g[j] * s[j];
                }
                for (std::size_t j = 0; j < n; ++j) {
                    d[j] = s[j] * (g[j] - dot);
                }
            }
        }
    }
};

} // namespace detail

/// Softmax along the last axis: `y_j = exp(x_j) / Σ_k exp(x_k)`, rows summing to 1.
///
/// Backward: `dx = y ⊙ (dy - Σ_j dy_j y_j)`. Shapes: any rank; normalizes over the last
/// extent, e.g. `(batch, classes)`. Computed with the row maximum subtracted, so logits of
/// ±1e4 give exact probabilities. For training a classifier prefer no softmax layer and the
/// fused softmax_cross_entropy loss on the logits: it is faster and more accurate.
/// @tparam T the scalar type. @tparam N the rank.
/// @code
/// xtnn::softmax_layer<float, 2> s;
/// auto probabilities = xtnn::apply(s, logits);
/// @endcode
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 2>
class softmax_layer : public detail::normalized_exponential<T, N, false> {};

/// Log-softmax along the last axis: `y_j = x_j - log Σ_k exp(x_k)`.
///
/// Backward: `dx = dy - exp(y) Σ_j dy_j`. Numerically stable for any logits.
/// @tparam T the scalar type. @tparam N the rank.
/// @code
/// xtnn::log_softmax_layer<float, 2> s;
/// auto log_probabilities = xtnn::apply(s, logits);
/// @endcode
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 2>
class log_softmax_layer : public detail::normalized_exponential<T, N, true> {};

/// The softmax spec for sequential: becomes a softmax_layer of the previous layer's type.
/// @code
/// xtnn::sequential model{xtnn::dense{16, 3}, xtnn::softmax{}};
/// @endcode
/// @ingroup layers
struct softmax {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = softmax_layer<T, N>;
    static constexpr std::string_view name = "softmax"; ///< The name in summaries.
};

/// The log-softmax spec for sequential: becomes a log_softmax_layer.
/// @code
/// xtnn::sequential model{xtnn::dense{16, 3}, xtnn::log_softmax{}};
/// @endcode
/// @ingroup layers
struct log_softmax {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = log_softmax_layer<T, N>;
    static constexpr std::string_view name = "log_softmax"; ///< The name in summaries.
};

} // namespace xtnn
