/// @file
/// The ONNX forms of pooling: MaxPool, AveragePool (after a Pad of zeros for counted padding,
/// as PyTorch writes it), GlobalAveragePool then Flatten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtnn/layers/pooling.hpp>
#include <xtnn/onnx/forms/flatten.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

namespace detail {

/// ONNX's pads, [top, left, bottom, right], of a pooling window's padding.
inline std::vector<std::int64_t> onnx_pool_pads(extent2 padding) {
    const auto h = static_cast<std::int64_t>(padding.height);
    const auto w = static_cast<std::int64_t>(padding.width);
    return {h, w, h, w};
}

/// Adds a MaxPool or AveragePool node of `spec`'s window reading `x`.
template <class T, class Spec>
onnx::NodeProto& emit_pool(onnx_writer<T>& w, const char* op, const Spec& spec,
                           const std::string& prefix, const std::string& x,
                           const std::vector<std::int64_t>& pads) {
    auto& n = w.add_node(op, prefix, {x});
    w.set_ints(n, "kernel_shape",
               {static_cast<std::int64_t>(spec.kernel_size.height),
                static_cast<std::int64_t>(spec.kernel_size.width)});
    w.set_ints(n, "strides",
               {static_cast<std::int64_t>(spec.stride.height),
                static_cast<std::int64_t>(spec.stride.width)});
    w.set_ints(n, "pads", pads);
    return n;
}

/// Checks a MaxPool or AveragePool node `n` against `spec`'s window (floor mode).
template <class T, class Spec>
void match_pool(onnx_reader<T>& r, int n, const std::string& layer, const Spec& spec,
                const std::vector<std::int64_t>& pads) {
    r.require_no_auto_pad(n, layer);
    r.require_ints(n, layer, "kernel_shape", {},
                   {static_cast<std::int64_t>(spec.kernel_size.height),
                    static_cast<std::int64_t>(spec.kernel_size.width)});
    r.require_ints(n, layer, "strides", {1, 1},
                   {static_cast<std::int64_t>(spec.stride.height),
                    static_cast<std::int64_t>(spec.stride.width)});
    r.require_ints(n, layer, "pads", {0, 0, 0, 0}, pads);
    if (r.int_attribute(n, "ceil_mode", 0) != 0) {
        throw r.mismatch(n, layer, "ceil_mode", "0", "1");
    }
}

} // namespace detail

/// max_pool2d: MaxPool with its kernel_shape, strides and pads.
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<max_pool2d_layer<T, N>> {
    using layer = max_pool2d_layer<T, N>; ///< The layer type.
    /// MaxPool.
    static std::string emit(onnx_writer<T>& w, layer& l, const onnx_place& at,
                            const std::string& x) {
        return detail::emit_pool(w, "MaxPool", l.options(), at.prefix, x,
                                 detail::onnx_pool_pads(l.options().padding))
            .output(0);
    }
    /// MaxPool without dilation.
    static std::string match(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t&) {
        const std::string text = onnx_layer_text(l, at);
        const int n = r.require(x, {"MaxPool"}, text);
        detail::match_pool(r, n, text, l.options(), detail::onnx_pool_pads(l.options().padding));
        r.require_ints(n, text, "dilations", {1, 1}, {1, 1});
        return r.take(n);
    }
};

/// avg_pool2d: AveragePool; padding counted in the mean (count_include_pad, PyTorch's
/// default) is written as an explicit Pad of zeros before it, as PyTorch's exporter does
/// (OpenCV 4.6 ignores count_include_pad), and read as that or as AveragePool's pads with
/// count_include_pad = 1.
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<avg_pool2d_layer<T, N>> {
    using layer = avg_pool2d_layer<T, N>; ///< The layer type.

    /// (Pad,) AveragePool.
    static std::string emit(onnx_writer<T>& w, layer& l, const onnx_place& at,
                            const std::string& x) {
        const auto& o = l.options();
        auto pads = detail::onnx_pool_pads(o.padding);
        std::string in = x;
        if (o.count_include_pad && pads != std::vector<std::int64_t>(4, 0)) {
            in = w.node("Pad", at.prefix,
                        {x, w.integers(at.prefix + "pads",
                                       {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]})});
            pads.assign(4, 0);
        }
        return detail::emit_pool(w, "AveragePool", o, at.prefix, in, pads).output(0);
    }

    /// (Pad of zeros,) AveragePool.
    static std::string match(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t&) {
        const std::string text = onnx_layer_text(l, at);
        const auto& o = l.options();
        auto pads = detail::onnx_pool_pads(o.padding);
        const bool padded = pads != std::vector<std::int64_t>(4, 0);
        std::string in = x;
        if (o.count_include_pad && padded) {
            if (const int p = r.consumer(x, {"Pad"}); p >= 0) {
                const auto* mode = detail::onnx_attribute(r.node(p), "mode");
                const auto amounts = r.input(p, 1).empty() ? std::vector<double>{}
                                                           : r.constant(r.input(p, 1), text).values;
                const std::vector<double> expected{0, 0, double(pads[0]), double(pads[1]),
                                                   0, 0, double(pads[2]), double(pads[3])};
                const bool zeros = r.input(p, 2).empty() || r.is_scalar(r.input(p, 2), 0.0);
                if ((mode != nullptr && mode->s() != "constant") || amounts != expected || !zeros) {
                    throw r.error("node " + r.describe_node(p) + ": " + text +
                                  ": expected a Pad of zeros by (" + std::to_string(pads[0]) +
                                  ", " + std::to_string(pads[1]) + ") around the images");
                }
                in = r.take(p);
                pads.assign(4, 0);
            }
        }
        const int n = r.require(in, {"AveragePool"}, text);
        detail::match_pool(r, n, text, o, pads);
        if (pads != std::vector<std::int64_t>(4, 0) &&
            (r.int_attribute(n, "count_include_pad", 0) != 0) != o.count_include_pad) {
            throw r.mismatch(n, text, "count_include_pad", o.count_include_pad ? "1" : "0",
                             o.count_include_pad ? "0" : "1");
        }
        return r.take(n);
    }
};

/// global_avg_pool2d: GlobalAveragePool, then Flatten (the output is (batch, channels)).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<global_avg_pool2d_layer<T, N>> {
    using layer = global_avg_pool2d_layer<T, N>; ///< The layer type.
    /// GlobalAveragePool, Flatten.
    static std::string emit(onnx_writer<T>& w, layer&, const onnx_place& at, const std::string& x) {
        return w.flatten(w.node("GlobalAveragePool", at.prefix, {x}), at.prefix);
    }
    /// GlobalAveragePool, then a Flatten or Reshape to (batch, -1).
    static std::string match(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        const std::string text = onnx_layer_text(l, at);
        const int n = r.require(x, {"GlobalAveragePool"}, text);
        return detail::match_flatten(r, r.take(n), text, rank);
    }
};

} // namespace xtnn
