/// @file
/// The ONNX form of dense: Gemm (transB = 1), or MatMul then Add as some exporters write it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <xtnn/layers/dense.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// dense: `Gemm(x, weight, bias)` with transB = 1 (the weight is (out, in)); read also as
/// Gemm with transB = 0 (weight (in, out)) or MatMul then Add of the bias.
/// @ingroup onnx
template <class T>
struct onnx_form<dense<T>> {
    /// Gemm.
    static std::string emit(onnx_writer<T>& w, dense<T>& l, const onnx_place& at,
                            const std::string& x) {
        std::vector<std::string> in{x, w.parameter(l, at, "weight")};
        if (l.has_bias()) {
            in.push_back(w.parameter(l, at, "bias"));
        }
        auto& n = w.add_node("Gemm", at.prefix, in);
        w.set_int(n, "transB", 1);
        return n.output(0);
    }

    /// Gemm, or MatMul and Add.
    static std::string match(onnx_reader<T>& r, dense<T>& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        const std::string layer = onnx_layer_text(l, at);
        const auto expected = r.array_shape(l, at, "weight");
        const int n = r.require(x, {"Gemm", "MatMul"}, layer, at.prefix + "weight", &expected);
        const bool gemm = r.node(n).op_type() == "Gemm";
        if (r.inputs(n).size() < 2) {
            throw r.error("node " + r.describe_node(n) + " has no weight input");
        }
        bool transpose = !gemm;
        if (gemm) {
            if (r.int_attribute(n, "transA", 0) != 0) {
                throw r.mismatch(n, layer, "transA", "0", "1");
            }
            transpose = r.int_attribute(n, "transB", 0) == 0;
            r.require_close(n, layer, "alpha", r.float_attribute(n, "alpha", 1.0), 1.0);
        }
        r.stage(l, at, "weight", r.constant(r.input(n, 1), layer), n, transpose);
        std::string y = r.take(n);
        std::optional<std::string> bias;
        if (gemm && !r.input(n, 2).empty()) {
            r.require_close(n, layer, "beta", r.float_attribute(n, "beta", 1.0), 1.0);
            bias = r.input(n, 2);
        } else if (!gemm) { // MatMul, then Add of the bias
            for (const int i : r.readers(y)) {
                const auto& in = r.inputs(i);
                if (!r.used(i) && r.node(i).op_type() == "Add" && in.size() == 2 &&
                    (in[0] == y || in[1] == y)) {
                    const std::string other = in[0] == y ? in[1] : in[0];
                    if (r.is_constant(other)) {
                        bias = other;
                        y = r.take(i);
                    }
                    break;
                }
            }
        }
        if (bias.has_value() != l.has_bias()) {
            throw r.mismatch(n, layer, "bias", l.has_bias() ? "a bias" : "no bias",
                             bias ? "a bias" : "none");
        }
        if (bias) {
            r.stage(l, at, "bias", r.constant(*bias, layer), n);
        }
        rank = 2;
        return y;
    }
};

} // namespace xtnn
