/// @file
/// flatten: (batch, d1, d2, …) -> (batch, d1·d2·…).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include <xtnn/core/errors.hpp>
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
class flatten_layer {
    static_assert(N >= 2, "xtnn: flatten needs an input of rank >= 2 (batch first)");

  public:
    using value_type = T;                               ///< The scalar type.
    static constexpr std::size_t input_rank = N;        ///< (batch, d1, …).
    static constexpr std::size_t output_rank = 2;       ///< (batch, features).
    using input_type = tensor<T, N>;                    ///< The input tensor type.
    using output_type = tensor<T, 2>;                   ///< The output tensor type.
    static constexpr std::string_view name = "flatten"; ///< The name in summaries.

    /// `(batch, d1, …, dk)` -> `(batch, d1·…·dk)`.
    shape<2> output_shape(const shape<N>& input) const {
        std::size_t features = 1;
        for (std::size_t i = 1; i < N; ++i) {
            features *= input[i];
        }
        return {input[0], features};
    }

    /// Copies x into y row by row (same memory order).
    void forward(const input_type& x, output_type& y, mode = mode::inference) const {
        detail::require_shape(output_shape(x.shape()), y.shape(), {name, "forward"},
                              "output buffer shape mismatch");
        std::copy(x.data(), x.data() + x.size(), y.data());
    }

    /// Copies dy back into dx's shape when `dx` is not null.
    void backward(const input_type& x, const output_type& y, const output_type& dy,
                  input_type* dx) const {
        detail::require_shape(output_shape(x.shape()), y.shape(), {name, "backward"},
                              "output shape mismatch");
        detail::require_shape(y.shape(), dy.shape(), {name, "backward"},
                              "output gradient shape mismatch");
        if (dx == nullptr) {
            return;
        }
        if (dx->shape() != x.shape()) {
            dx->resize(x.shape());
        }
        std::copy(dy.data(), dy.data() + dy.size(), dx->data());
    }

    /// None.
    std::vector<parameter_view<T>> parameters() { return {}; }
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
