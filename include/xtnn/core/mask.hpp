/// @file
/// Padding masks of sequence batches: what a mask is, how each layer treats one, and how a
/// model hands it to the layers that read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// The padding mask of a batch of sequences `(batch, time, …)`: `(batch, time)`, 1 for a real
/// step and 0 for padding. It is marked once, where the padding is known (a layer that makes
/// it, such as an embedding with a padding index, or the caller's
/// `model.forward(x, mask, mode)`), and the model carries it beside the activations to every
/// layer that reads it; the others pass it on untouched (see mask_use).
/// @ingroup core
using sequence_mask = tensor<std::uint8_t, 2>;

/// How a layer treats a padding mask that reaches it; a layer declares it as
/// `static constexpr xtnn::mask_use mask_use = …;` (none when it does not).
/// @ingroup concepts
enum class mask_use {
    /// It does not handle masks: a model in which a mask reaches it does not compile (the
    /// sentence names its position), rather than computing over padding.
    none,
    /// It works step by step or element by element, so the mask goes on unchanged (dropout,
    /// activations, a dense layer over the last axis).
    passes,
    /// It reads the mask and passes it on (a recurrent layer returning every step,
    /// attention): its compute functions take a trailing `const sequence_mask*`, null when
    /// the batch has no padding.
    reads,
    /// It reads the mask and its output has no time axis, so no mask goes on (pooling over
    /// time, a recurrent layer returning its last step).
    consumes,
    /// It makes the mask from its input (an embedding's padding index):
    /// `make_mask(x, mask)` writes it after forward, replacing any mask that reached it.
    makes
};

/// The mask_use a layer type declares; none if it declares nothing.
/// @ingroup concepts
template <class L>
inline constexpr mask_use mask_use_of = [] {
    if constexpr (requires { L::mask_use; }) {
        return mask_use{L::mask_use};
    } else {
        return mask_use::none;
    }
}();

/// Whether layer type L reads a mask (mask_use reads or consumes).
/// @ingroup concepts
template <class L>
concept mask_reader = mask_use_of<L>
== mask_use::reads || mask_use_of<L> == mask_use::consumes;

namespace detail {

/// Checks that `mask` covers the batch and time steps of `x`, `(batch, time, …)`.
/// @throws shape_error naming `where` and both shapes.
template <class X>
void require_mask_shape(const sequence_mask& mask, const X& x, const std::string& where) {
    const auto& s = x.shape();
    if (s.size() < 2 || mask.shape()[0] != s[0] || mask.shape()[1] != s[1]) {
        throw shape_error(mismatch_message(
            where, "mask shape mismatch",
            s.size() < 2 ? std::string("a sequence batch (batch, time, ...)")
                         : "(" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ")",
            format_shape(mask.shape())));
    }
}

/// Layer `l`'s forward into `y`, which a model sized: with `mask` if the layer reads masks.
template <class L, class X, class Y>
void forward_layer(L& l, const X& x, Y& y, mode m, const sequence_mask* mask) {
    if constexpr (mask_reader<L>) {
        if constexpr (based_layer<L>) {
            layer_access::forward(l, x, y, m, mask);
        } else {
            l.forward(x, y, m, mask);
        }
    } else if constexpr (based_layer<L>) {
        layer_access::forward(l, x, y, m);
    } else {
        l.forward(x, y, m);
    }
}

/// Layer `l`'s backward: with `mask` if the layer reads masks.
template <class L, class X, class Y, class DY>
void backward_layer(L& l, const X& x, const Y& y, const DY& dy, typename L::input_type* dx,
                    const sequence_mask* mask) {
    if constexpr (mask_reader<L>) {
        if constexpr (based_layer<L>) {
            layer_access::backward(l, x, y, dy, dx, mask);
        } else {
            l.backward(x, y, dy, dx, mask);
        }
    } else if constexpr (based_layer<L>) {
        layer_access::backward(l, x, y, dy, dx);
    } else {
        l.backward(x, y, dy, dx);
    }
}

} // namespace detail

} // namespace xtnn
