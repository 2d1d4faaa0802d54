/// @file
/// bind_layer_t: what a sequential argument becomes once the previous layer's type is known.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <xtnn/core/concepts.hpp>
#include <xtnn/layers/activation_layer.hpp>

namespace xtnn {

/// A spec: a type that becomes a layer once the scalar type and rank before it are known,
/// through a nested `template <class T, std::size_t N> using bound_layer = …;`
/// (dropout, flatten, softmax, log_softmax).
/// @ingroup concepts
template <class S>
concept layer_spec = requires {
    typename S::template bound_layer<float, 2>;
};

namespace detail {

template <class S, class T, std::size_t N>
struct bind {
    static_assert(layer<S> || activation<S> || layer_spec<S>,
                  "xtnn: a sequential argument must be a layer, an activation or a layer spec "
                  "(see the xtnn::layer, xtnn::activation and xtnn::layer_spec concepts)");
    using type = S;
};

template <class S, class T, std::size_t N>
requires(!layer<S> && activation<S>) struct bind<S, T, N> {
    using type = activation_layer<S, T, N>;
};

template <class S, class T, std::size_t N>
requires(!layer<S> && !activation<S> && layer_spec<S>) struct bind<S, T, N> {
    using type = typename S::template bound_layer<T, N>;
};

} // namespace detail

/// The layer that `S` stands for after a layer with scalar `T` and output rank `N`: a layer
/// stays itself, an activation becomes activation_layer<S, T, N>, a spec its bound_layer.
/// @ingroup layers
template <class S, std::floating_point T, std::size_t N>
using bind_layer_t = typename detail::bind<S, T, N>::type;

/// Builds the bound layer from its argument: the layer itself (moved from an rvalue: a
/// ResNet's blocks nest five models deep, and copying each level's weights had made building
/// resnet18 take most of a second), or the bound layer constructed from the activation or
/// spec (so options such as a dropout rate carry over).
/// @ingroup layers
template <class Bound, class S>
Bound make_bound_layer(S&& s) {
    using Spec = std::remove_cvref_t<S>;
    if constexpr (std::same_as<Bound, Spec>) {
        return std::forward<S>(s);
    } else if constexpr (std::constructible_from<Bound, S&&>) {
        return Bound(std::forward<S>(s));
    } else {
        return Bound{};
    }
}

} // namespace xtnn
