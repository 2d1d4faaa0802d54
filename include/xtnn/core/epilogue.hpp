/// @file
/// Output epilogues: a layer that writes its output in one pass applies, in inference, the
/// per-channel affine map of the layer after it (a batch norm's running statistics) and a
/// relu as it stores each value, so that neither runs a pass of its own.
#pragma once

#include <concepts>
#include <span>

namespace xtnn {

/// What a layer applies to each output value as it writes it, in inference: for channel c
/// (axis 1), `v·scale[c] + shift[c]`, then `max(·, 0)` when `rectify` (relu's: NaN and -0
/// kept). sequential builds it from the layers it fuses (see xtnn::takes_channel_epilogue).
/// @ingroup layers
template <std::floating_point T>
struct channel_epilogue {
    std::span<const T> scale; ///< One per channel.
    std::span<const T> shift; ///< One per channel.
    bool rectify = false;     ///< Then relu.
};

/// Whether layer `L` applies a channel_epilogue as it writes its output: it declares
/// `static constexpr bool takes_channel_epilogue = true` and a private
/// `compute_forward_then(x, y, epilogue)` (reached through xtnn::layer_access) that gives
/// `forward(x, y, mode::inference)` followed by the epilogue, within float rounding.
/// conv2d does. sequential then runs, in inference, a layer that states its map
/// (xtnn::states_channel_affine, as batch_norm2d) just after it inside its output pass, and
/// a relu after that too; training runs every layer apart.
/// @ingroup layers
template <class L>
concept takes_channel_epilogue = requires {
    requires L::takes_channel_epilogue;
};

/// Whether layer `N`, in inference, is a per-channel affine map of its input that it can
/// state: `n.inference_affine(scale, shift)` writes one scale and shift per channel and
/// returns true, or returns false when its inference is not such a map (a batch norm that
/// keeps no running statistics normalizes by the batch).
/// @ingroup layers
template <class N>
concept states_channel_affine = requires(const N& n, std::span<typename N::value_type> s) {
    { n.inference_affine(s, s) } -> std::same_as<bool>;
};

} // namespace xtnn
