/// @file
/// The ONNX forms of conv2d: Conv, and Conv with the batch norm after it folded in (as
/// PyTorch's exporter writes every eval-mode convolution followed by batch norm).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xtnn/layers/batch_norm.hpp>
#include <xtnn/layers/conv2d.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

namespace detail {

/// ONNX's pads, [top, left, bottom, right], of a conv2d: its (height, width) padding on both
/// sides, or for "same" the padding PyTorch computes (one more at the bottom and right for an
/// odd total).
inline std::vector<std::int64_t> onnx_conv_pads(const conv2d_options& o) {
    if (o.padding.same) {
        const auto h = static_cast<std::int64_t>(o.dilation.height * (o.kernel_size.height - 1));
        const auto w = static_cast<std::int64_t>(o.dilation.width * (o.kernel_size.width - 1));
        return {h / 2, w / 2, h - h / 2, w - w / 2};
    }
    const auto h = static_cast<std::int64_t>(o.padding.height);
    const auto w = static_cast<std::int64_t>(o.padding.width);
    return {h, w, h, w};
}

inline std::vector<std::int64_t> onnx_ints(extent2 e) {
    return {static_cast<std::int64_t>(e.height), static_cast<std::int64_t>(e.width)};
}

/// The Conv node of `l` reading `x`, its attributes checked (nothing staged or taken yet); its
/// bias input, if any.
template <class T>
std::pair<int, std::optional<std::string>> find_conv(onnx_reader<T>& r, conv2d<T>& l,
                                                     const onnx_place& at, const std::string& x) {
    const std::string layer = onnx_layer_text(l, at);
    const auto& o = l.options();
    const auto expected = r.array_shape(l, at, "weight");
    const int n = r.require(x, {"Conv"}, layer, at.prefix + "weight", &expected);
    if (r.inputs(n).size() < 2) {
        throw r.error("node " + r.describe_node(n) + " has no weight input");
    }
    if (r.int_attribute(n, "group", 1) != 1) {
        throw r.mismatch(n, layer, "group", "1", std::to_string(r.int_attribute(n, "group", 1)));
    }
    r.require_no_auto_pad(n, layer);
    if (onnx_attribute(r.node(n), "kernel_shape") != nullptr) {
        r.require_ints(n, layer, "kernel_shape", {}, onnx_ints(o.kernel_size));
    }
    r.require_ints(n, layer, "strides", {1, 1}, onnx_ints(o.stride));
    r.require_ints(n, layer, "dilations", {1, 1}, onnx_ints(o.dilation));
    r.require_ints(n, layer, "pads", {0, 0, 0, 0}, onnx_conv_pads(o));
    const std::string bias = r.input(n, 2);
    return {n, bias.empty() ? std::nullopt : std::optional<std::string>(bias)};
}

} // namespace detail

/// conv2d: `Conv(x, weight, bias)` with its kernel_shape, strides, pads and dilations.
/// @ingroup onnx
template <class T>
struct onnx_form<conv2d<T>> {
    /// Conv.
    static std::string emit(onnx_writer<T>& w, conv2d<T>& l, const onnx_place& at,
                            const std::string& x) {
        const auto& o = l.options();
        std::vector<std::string> in{x, w.parameter(l, at, "weight")};
        if (o.bias) {
            in.push_back(w.parameter(l, at, "bias"));
        }
        auto& n = w.add_node("Conv", at.prefix, in);
        w.set_ints(n, "kernel_shape", detail::onnx_ints(o.kernel_size));
        w.set_ints(n, "strides", detail::onnx_ints(o.stride));
        w.set_ints(n, "pads", detail::onnx_conv_pads(o));
        w.set_ints(n, "dilations", detail::onnx_ints(o.dilation));
        return n.output(0);
    }

    /// Conv, with a bias exactly when the layer has one.
    static std::string match(onnx_reader<T>& r, conv2d<T>& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        const auto [n, bias] = detail::find_conv(r, l, at, x);
        r.stage(l, at, "weight", r.constant(r.input(n, 1), onnx_layer_text(l, at)), n);
        if (bias.has_value() != l.options().bias) {
            throw r.mismatch(n, onnx_layer_text(l, at), "bias",
                             l.options().bias ? "a bias" : "no bias", bias ? "a bias" : "none");
        }
        if (bias) {
            r.stage(l, at, "bias", r.constant(*bias, onnx_layer_text(l, at)), n);
        }
        rank = 4;
        return r.take(n);
    }
};

/// conv2d then batch_norm2d, as PyTorch's exporter writes them for a model in eval mode: one
/// Conv holding both. The Conv loads into the convolution and the batch norm becomes the
/// identity, `(x - 0) / √(1 - ε + ε)`, so the model computes what the file does; a bias-free
/// convolution's folded bias becomes the batch norm's shift. When a BatchNormalization node
/// follows the Conv, the two layers match one by one instead.
/// @ingroup onnx
template <class T>
struct onnx_pair_form<conv2d<T>, batch_norm_layer<T, 4>> {
    /// The folded Conv, or nothing (and nothing changed) if the graph keeps them apart.
    static std::optional<std::string> match(onnx_reader<T>& r, conv2d<T>& conv,
                                            batch_norm_layer<T, 4>& norm, const onnx_place& conv_at,
                                            const onnx_place& norm_at, const std::string& x,
                                            std::size_t& rank) {
        const auto [n, bias] = detail::find_conv(r, conv, conv_at, x);
        if (r.consumer(r.output(n), {"BatchNormalization"}) >= 0) {
            return std::nullopt;
        }
        const std::string conv_layer = onnx_layer_text(conv, conv_at);
        r.stage(conv, conv_at, "weight", r.constant(r.input(n, 1), conv_layer), n);
        const auto o = norm.options();
        if (!o.track_running_stats) {
            throw r.error("node " + r.describe_node(n) + ": " + onnx_layer_text(norm, norm_at) +
                          ": the file folds it into the Conv before it, which a batch norm "
                          "without running statistics cannot be");
        }
        if (!bias && conv.options().bias) {
            throw r.mismatch(n, conv_layer, "bias", "a bias", "none");
        }
        r.stage_filled(norm, norm_at, "running_mean", T(0));
        r.stage_filled(norm, norm_at, "running_var", static_cast<T>(1.0 - o.eps));
        if (bias && conv.options().bias) {
            r.stage(conv, conv_at, "bias", r.constant(*bias, conv_layer), n);
        }
        if (o.affine) {
            r.stage_filled(norm, norm_at, "weight", T(1));
            if (bias && !conv.options().bias) {
                r.stage(norm, norm_at, "bias", r.constant(*bias, conv_layer), n);
            } else {
                r.stage_filled(norm, norm_at, "bias", T(0));
            }
        } else if (bias && !conv.options().bias) {
            throw r.error("node " + r.describe_node(n) + ": " + conv_layer +
                          " has no bias and the batch norm after it has no learned shift "
                          "(affine = false), so the Conv's bias has nowhere to go");
        }
        rank = 4;
        return r.take(n);
    }
};

} // namespace xtnn
