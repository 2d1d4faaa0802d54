/// @file
/// The ONNX form of batch norm: BatchNormalization, its inference form.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include <xtnn/layers/batch_norm.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// batch_norm1d and batch_norm2d: `BatchNormalization(x, scale, shift, running_mean,
/// running_var)` with epsilon and ONNX's momentum (1 - PyTorch's); without `affine`, scale 1
/// and shift 0 as constants. Without running statistics there is no inference form (io_error).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<batch_norm_layer<T, N>> {
    using layer = batch_norm_layer<T, N>; ///< The layer type.

    /// BatchNormalization.
    static std::string emit(onnx_writer<T>& w, layer& l, const onnx_place& at,
                            const std::string& x) {
        const auto o = l.options();
        if (!o.track_running_stats) {
            throw io_error(w.where() + ": layer " + at.path +
                           " (batch norm without running statistics) has no inference form: it "
                           "normalizes each batch by its own statistics, which ONNX's "
                           "BatchNormalization cannot express");
        }
        std::string scale, shift;
        if (o.affine) {
            scale = w.parameter(l, at, "weight");
            shift = w.parameter(l, at, "bias");
        } else { // no learned scale and shift: 1 and 0
            scale = w.filled(at.prefix + "onnx_scale", o.num_features, T(1));
            shift = w.filled(at.prefix + "onnx_shift", o.num_features, T(0));
        }
        auto& n = w.add_node("BatchNormalization", at.prefix,
                             {x, scale, shift, w.parameter(l, at, "running_mean"),
                              w.parameter(l, at, "running_var")});
        w.set_float(n, "epsilon", o.eps);
        // ONNX weighs the old estimate by momentum; PyTorch (and xtnn) the new one
        w.set_float(n, "momentum", 1.0 - o.momentum);
        return n.output(0);
    }

    /// BatchNormalization in inference mode.
    static std::string match(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t&) {
        const std::string text = onnx_layer_text(l, at);
        const auto o = l.options();
        const int n = r.require(x, {"BatchNormalization"}, text);
        if (r.inputs(n).size() != 5) {
            throw r.error("node " + r.describe_node(n) + ": expected 5 inputs, got " +
                          std::to_string(r.inputs(n).size()));
        }
        if (r.int_attribute(n, "training_mode", 0) != 0) {
            throw r.mismatch(n, text, "training_mode", "0 (inference)", "1");
        }
        r.require_close(n, text, "epsilon", r.float_attribute(n, "epsilon", 1e-5), o.eps);
        const auto scale = r.constant(r.input(n, 1), text);
        const auto shift = r.constant(r.input(n, 2), text);
        if (o.affine) {
            r.stage(l, at, "weight", scale, n);
            r.stage(l, at, "bias", shift, n);
        } else if (std::any_of(scale.values.begin(), scale.values.end(),
                               [](double v) { return v != 1.0; }) ||
                   std::any_of(shift.values.begin(), shift.values.end(),
                               [](double v) { return v != 0.0; })) {
            throw r.mismatch(n, text, "scale and shift", "1 and 0 (affine = false)",
                             "learned values");
        }
        if (!o.track_running_stats) {
            throw r.error("node " + r.describe_node(n) + ": " + text +
                          ": the file normalizes by running statistics, which this batch norm "
                          "does not keep (track_running_stats = false)");
        }
        r.stage(l, at, "running_mean", r.constant(r.input(n, 3), text), n);
        r.stage(l, at, "running_var", r.constant(r.input(n, 4), text), n);
        return r.take(n);
    }
};

} // namespace xtnn
