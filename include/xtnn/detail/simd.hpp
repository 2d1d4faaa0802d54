/// @file
/// Elementwise loops over several arrays, in SIMD batches (xsimd) with a scalar tail.
#pragma once

#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>

namespace xtnn::detail {

/// The scalar type of `V`: `V` itself, or the element type of an xsimd batch.
template <class V>
struct scalar_of {
    using type = V; ///< The scalar type.
};
/// The element type of an xsimd batch.
template <class T, class Arch>
struct scalar_of<xsimd::batch<T, Arch>> {
    using type = T; ///< The scalar type.
};
/// The scalar type of `V`.
template <class V>
using scalar_t = typename scalar_of<V>::type;

/// The number `c` as a `V`: rounded to V's scalar type, in every lane of a batch.
template <class V>
V constant(double c) {
    return V(static_cast<scalar_t<V>>(c));
}

/// `condition ? a : b` for scalars, lane by lane (xsimd::select) for batches: one kernel
/// serves both, and its scalar and SIMD forms agree element for element, NaN included.
template <std::floating_point T>
T select(bool condition, T a, T b) {
    return condition ? a : b;
}
/// Lane by lane: `condition[i] ? a[i] : b[i]`.
template <class T, class Arch>
xsimd::batch<T, Arch> select(const xsimd::batch_bool<T, Arch>& condition,
                             const xsimd::batch<T, Arch>& a, const xsimd::batch<T, Arch>& b) {
    return xsimd::select(condition, a, b);
}

/// Calls `kernel(x0, x1, …)` for each index i of n, where x_k is array k's element i, loaded
/// by value and written back afterwards unless array k is const. The kernel is written once
/// for both kinds of value: whole SIMD batches (xsimd, the widest the compiler targets) and
/// the scalar tail. In the kernel, `using std::sqrt;` then `sqrt(x)` finds xsimd's sqrt for
/// batches by argument-dependent lookup. The kernel is copied once (so it must be copyable):
/// capture by value, so that its constants stay in registers.
///
/// Why: compilers do not vectorize loops calling std::sqrt (errno handling), which made the
/// optimizers' updates scalar.
template <std::floating_point T, class Kernel, class... Elements>
void simd_for_each(std::size_t n, Kernel&& kernel, Elements*... arrays) {
    static_assert((std::same_as<std::remove_const_t<Elements>, T> && ...),
                  "xtnn: simd_for_each arrays must all hold the scalar type T");
    // A local copy: the compiler then knows the stores below cannot change the kernel's
    // captured values, and keeps them in registers instead of reloading them every batch.
    std::decay_t<Kernel> local = kernel;
    std::size_t i = 0;
#if !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
    using batch = xsimd::batch<T>;
    constexpr std::size_t width = batch::size;
    for (; i + width <= n; i += width) {
        std::tuple<std::conditional_t<true, batch, Elements>...> values{
            (void(arrays), batch::load_unaligned(arrays + i))...};
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            local(std::get<K>(values)...);
            auto store = [&]<std::size_t J>(auto* array) {
                if constexpr (!std::is_const_v<std::remove_pointer_t<decltype(array)>>) {
                    std::get<J>(values).store_unaligned(array + i);
                }
            };
            (store.template operator()<K>(arrays), ...);
        }
        (std::index_sequence_for<Elements...>{});
    }
#endif
    for (; i < n; ++i) {
        std::tuple<std::remove_const_t<Elements>...> values{arrays[i]...};
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            local(std::get<K>(values)...);
            auto store = [&]<std::size_t J>(auto* array) {
                if constexpr (!std::is_const_v<std::remove_pointer_t<decltype(array)>>) {
                    array[i] = std::get<J>(values);
                }
            };
            (store.template operator()<K>(arrays), ...);
        }
        (std::index_sequence_for<Elements...>{});
    }
}

} // namespace xtnn::detail
