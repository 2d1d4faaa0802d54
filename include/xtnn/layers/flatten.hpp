/// @file
/// flatten: (batch, d1, d2, …) -> (batch, d1·d2·…).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// Reshapes each sample to one row: `(batch, d1, …, dk)` -> `(batch, d1·…·dk)`.
///
/// Forward and backward copy the row-major data unchanged (a reshape). Use it between
/// image layers `(batch, channels, height, width)` and dense layers.
/// @tparam T the scalar type. @tparam N the input rank (≥ 2).
/// @code
/// xtnn::flatten_layer<float, 3> f;          // (batch, 28, 28) -> (batch, 784)
/// xtnn::sequential model{f, xtnn::dense{784, 10}};
/// @endcode
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 4>
class flatten_layer : public layer_base<flatten_layer<T, N>, T, N, 2> {
    static_assert(N >= 2, "xtnn: flatten needs an input of rank >= 2 (batch first)");

  public:
    static constexpr std::string_view name = "flatten"; ///< The name in summaries.
    static constexpr bool independent_samples = true;   ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;     ///< See xtnn::trains_by_samples.

    /// `(batch, d1, …, dk)` -> `(batch, d1·…·dk)`.
    shape<2> output_shape(const shape<N>& input) const {
        std::size_t features = 1;
        for (std::size_t i = 1; i < N; ++i) {
            features *= input[i];
        }
        return {input[0], features};
    }

  private:
    friend layer_access;

    /// Copies x into y row by row (same memory order).
    void compute_forward(const tensor<T, N>& x, tensor<T, 2>& y, mode) const {
        std::copy(x.data(), x.data() + x.size(), y.data());
    }

    /// Copies dy back into dx's shape when `dx` is not null.
    void compute_backward(const tensor<T, N>&, const tensor<T, 2>&, const tensor<T, 2>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        std::copy(dy.data(), dy.data() + dy.size(), dx->data());
    }
};

/// The flatten spec for sequential: becomes a flatten_layer of the previous layer's type.
/// @code
/// xtnn::sequential model{xtnn::flatten_layer<float, 3>{}, xtnn::dense{784, 10}};
/// @endcode
/// @ingroup layers
struct flatten {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = flatten_layer<T, N>;
    static constexpr std::string_view name = "flatten"; ///< The name in summaries.
};

} // namespace xtnn
