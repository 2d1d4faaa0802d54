/// @file
/// The ONNX form of flatten: Flatten(axis 1), read also as the Reshapes exporters write for
/// `torch.flatten(x, 1)`, `x.view(-1, k)` and `x.view(x.size(0), -1)`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xtnn/layers/flatten.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

namespace detail {

/// The nodes of `x.view(x.size(0), -1)` in an export: Shape(x), Gather of index 0,
/// Unsqueeze, Concat with -1; the Concat's output if they are all there (then taken), else "".
template <class T>
std::string match_batch_shape(onnx_reader<T>& r, const std::string& x) {
    const auto saved = r.save();
    const auto next = [&](const std::string& from, const char* op) {
        for (const int i : r.readers(from)) {
            if (!r.used(i) && r.node(i).op_type() == op && r.input(i, 0) == from) {
                return i;
            }
        }
        return -1;
    };
    const int shape = next(x, "Shape");
    const int gather = shape < 0 ? -1 : next(r.output(shape), "Gather");
    if (gather < 0 || !r.is_scalar(r.input(gather, 1), 0.0) ||
        r.int_attribute(gather, "axis", 0) != 0) {
        return {};
    }
    r.take(shape);
    const int unsqueeze = next(r.take(gather), "Unsqueeze");
    if (unsqueeze < 0) {
        r.restore(saved);
        return {};
    }
    const std::string batch = r.take(unsqueeze);
    for (const int i : r.readers(batch)) {
        const auto& in = r.inputs(i);
        if (!r.used(i) && r.node(i).op_type() == "Concat" && in.size() == 2 && in[0] == batch &&
            r.is_constant(in[1]) && r.constant(in[1], "Concat").values == std::vector{-1.0}) {
            return r.take(i);
        }
    }
    r.restore(saved);
    return {};
}

/// Flatten(axis 1), or a Reshape to (0 or -1, -1), (-1, k) or (the batch, -1), reading `x`;
/// sets `rank` to 2.
template <class T>
std::string match_flatten(onnx_reader<T>& r, const std::string& x, const std::string& layer,
                          std::size_t& rank) {
    const std::string batch_shape = match_batch_shape(r, x);
    const int n = r.require(x, {"Flatten", "Reshape"}, layer);
    if (r.node(n).op_type() == "Flatten") {
        if (r.int_attribute(n, "axis", 1) != 1) {
            throw r.mismatch(n, layer, "axis", "1", std::to_string(r.int_attribute(n, "axis", 1)));
        }
    } else if (batch_shape.empty() || r.input(n, 1) != batch_shape) {
        const auto to = r.input(n, 1).empty() ? onnx_constant{} : r.constant(r.input(n, 1), layer);
        const auto& v = to.values;
        const bool ok = v.size() == 2 &&
                        ((v[1] == -1 && (v[0] == 0 || v[0] == -1)) || (v[0] == -1 && v[1] > 0));
        if (!ok) {
            throw r.error("node " + r.describe_node(n) + ": " + layer +
                          ": expected a Reshape to (batch, -1); got a shape of " +
                          std::to_string(v.size()) + " values");
        }
    }
    rank = 2;
    return r.take(n);
}

} // namespace detail

/// flatten: Flatten(axis 1).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<flatten_layer<T, N>> {
    /// Flatten.
    static std::string emit(onnx_writer<T>& w, flatten_layer<T, N>&, const onnx_place& at,
                            const std::string& x) {
        return w.flatten(x, at.prefix);
    }
    /// Flatten, or a Reshape to (batch, -1).
    static std::string match(onnx_reader<T>& r, flatten_layer<T, N>& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        return detail::match_flatten(r, x, onnx_layer_text(l, at), rank);
    }
};

} // namespace xtnn
