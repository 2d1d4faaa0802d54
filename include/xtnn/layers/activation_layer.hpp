/// @file
/// activation_layer: turns an elementwise activation into a layer of any rank.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn {

namespace detail {

/// True when activation `A` also takes whole xsimd batches of `T` (the built-in ones do), so
/// activation_layer can run it a SIMD register at a time.
template <class A, class T>
concept simd_activation =
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
    false;
#else
    requires(const A& a, xsimd::batch<T> b) {
    { a.value(b) } -> std::same_as<xsimd::batch<T>>;
    { a.derivative(b, b) } -> std::same_as<xsimd::batch<T>>;
};
#endif

} // namespace detail

/// A parameter-free layer applying activation `A` to every element.
///
/// Forward: `y[i] = A.value(x[i])`. Backward: `dx[i] = dy[i] · A.derivative(x[i], y[i])`.
/// Shapes: any rank `N`; y and dx have x's shape. One loop over contiguous memory each way:
/// in SIMD batches (detail::simd_for_each) when `A` takes xsimd batches, as the built-in
/// activations do, else element by element. (GCC leaves `x > 0 ? a : b` loops scalar under
/// its default -ftrapping-math; the batch form keeps relu's backward from branching on every
/// element.) sequential builds these by itself from activations (`xtnn::relu{}`), taking `T` and
/// `N` from the previous layer.
///
/// @tparam A an xtnn::activation.
/// @tparam T the scalar type.
/// @tparam N the rank of the tensors it maps.
/// @code
/// xtnn::activation_layer<xtnn::leaky_relu, float, 2> layer(xtnn::leaky_relu{0.2});
/// auto y = xtnn::apply(layer, x);
/// @endcode
/// @ingroup layers
template <activation A, std::floating_point T = float, std::size_t N = 2>
class activation_layer : public layer_base<activation_layer<A, T, N>, T, N, N> {
  public:
    static constexpr std::string_view name = A::name; ///< The activation's name.
    using options_type = A;                           ///< What it is built from.
    /// Element by element: a padding mask goes on unchanged.
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::passes;
    /// Over xtnn's threads, for images (rank 4).
    static constexpr bool splits_batch = N == 4;
    static constexpr bool independent_samples = true; ///< See xtnn::independent_samples.
    static constexpr bool trains_by_samples = true;   ///< See xtnn::trains_by_samples.

    /// Wraps `a` (its options, e.g. a leaky slope, are kept).
    explicit activation_layer(A a = {}) : activation_(a) {}

    /// The wrapped activation.
    const A& function() const { return activation_; }
    /// The wrapped activation, whose fields (a leaky slope) its description records:
    /// `relu`, `leaky_relu(negative_slope=0.01)`…
    const A& options() const { return activation_; }

    /// The output has the input's shape.
    shape<N> output_shape(const shape<N>& input) const { return input; }

  private:
    friend layer_access;

    /// `y[i] = value(x[i])`.
    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode) const {
        detail::parallel_for(split(x.size()), [&](std::size_t first, std::size_t last,
                                                  std::size_t) {
            const T* in = x.data() + first;
            T* out = y.data() + first;
            const std::size_t n = last - first;
            if constexpr (detail::simd_activation<A, T>) {
                detail::simd_for_each<T>(
                    n, [a = activation_](const auto& xi, auto& yi) { yi = a.value(xi); }, in, out);
            } else {
                for (std::size_t i = 0; i < n; ++i) {
                    out[i] = activation_.value(in[i]);
                }
            }
        });
    }

    /// `dx[i] = dy[i] · derivative(x[i], y[i])` when `dx` is not null.
    void compute_backward(const tensor<T, N>& x, const tensor<T, N>& y, const tensor<T, N>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        detail::parallel_for(
            split(x.size()), [&](std::size_t first, std::size_t last, std::size_t) {
                const T* in = x.data() + first;
                const T* out = y.data() + first;
                const T* g = dy.data() + first;
                T* d = dx->data() + first;
                const std::size_t n = last - first;
                if constexpr (detail::simd_activation<A, T>) {
                    detail::simd_for_each<T>(
                        n,
                        [a = activation_](const auto& xi, const auto& yi, const auto& gi,
                                          auto& di) { di = gi * a.derivative(xi, yi); },
                        in, out, g, d);
                } else {
                    for (std::size_t i = 0; i < n; ++i) {
                        d[i] = g[i] * activation_.derivative(in[i], out[i]);
                    }
                }
            });
    }

    // Images (rank 4) split over xtnn's threads, at least 2^16 values per part; features
    // (an MLP's rank 2) stay on the calling thread: the MLP's threads split its products.
    static detail::partition split(std::size_t n) {
        return {n, std::size_t{1} << 16, N == 4 ? num_threads() : 1};
    }

    A activation_;
};

/// Whether layer `L` absorbs the layer `P` before it: true when `P` is an activation layer
/// whose activation `A` L declares it can run after itself (`L::absorbs_before<A>`), with the
/// same scalar type and rank, and L reads no padding masks. sequential then runs the pair as
/// one pass of L over P's input, `L.compute_forward_after(a, x, y, m)` and
/// `compute_backward_after(a, x, y, dy, dx)`, with the same results as the two layers one
/// after the other, and P's output and gradient buffers are never allocated. max_pool2d
/// absorbs relu (the maximum of rectified values is the rectified maximum), which spares a
/// convnet's ReLU both of its passes over the largest activations.
/// @ingroup layers
template <class L, class P>
inline constexpr bool absorbs_activation = false;
/// @cond XTNN_DETAIL
template <class L, class A, std::floating_point T, std::size_t N>
requires(
    L::template absorbs_before<A>&& std::same_as<typename L::value_type, T>&& L::input_rank == N &&
    mask_use_of<L> ==
        xtnn::mask_use::none) inline constexpr bool absorbs_activation<L,
                                                                       activation_layer<A, T, N>> =
    true;
/// @endcond

} // namespace xtnn
