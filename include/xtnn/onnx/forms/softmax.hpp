/// @file
/// The ONNX forms of softmax and log_softmax: Softmax and LogSoftmax over the last axis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <xtnn/layers/softmax.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

namespace detail {

/// Softmax or LogSoftmax (`op`) over axis -1.
template <class T, class L>
struct onnx_softmax_form {
    static std::string emit(onnx_writer<T>& w, const char* op, const onnx_place& at,
                            const std::string& x) {
        auto& n = w.add_node(op, at.prefix, {x});
        w.set_int(n, "axis", -1);
        return n.output(0);
    }
    static std::string match(onnx_reader<T>& r, const char* op, L& l, const onnx_place& at,
                             const std::string& x, std::size_t rank) {
        const std::string text = onnx_layer_text(l, at);
        const int n = r.require(x, {op}, text);
        // before opset 13 the default axis is 1 (and the rows flattened from it on)
        const std::int64_t axis = r.int_attribute(n, "axis", r.opset() >= 13 ? -1 : 1);
        if (axis != -1 && axis != static_cast<std::int64_t>(rank) - 1) {
            throw r.mismatch(n, text, "axis", "-1 (the last)", std::to_string(axis));
        }
        return r.take(n);
    }
};

} // namespace detail

/// softmax: Softmax(axis -1).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<softmax_layer<T, N>> {
    /// Softmax.
    static std::string emit(onnx_writer<T>& w, softmax_layer<T, N>&, const onnx_place& at,
                            const std::string& x) {
        return detail::onnx_softmax_form<T, softmax_layer<T, N>>::emit(w, "Softmax", at, x);
    }
    /// Softmax over the last axis.
    static std::string match(onnx_reader<T>& r, softmax_layer<T, N>& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        return detail::onnx_softmax_form<T, softmax_layer<T, N>>::match(r, "Softmax", l, at, x,
                                                                        rank);
    }
};

/// log_softmax: LogSoftmax(axis -1).
/// @ingroup onnx
template <class T, std::size_t N>
struct onnx_form<log_softmax_layer<T, N>> {
    /// LogSoftmax.
    static std::string emit(onnx_writer<T>& w, log_softmax_layer<T, N>&, const onnx_place& at,
                            const std::string& x) {
        return detail::onnx_softmax_form<T, log_softmax_layer<T, N>>::emit(w, "LogSoftmax", at, x);
    }
    /// LogSoftmax over the last axis.
    static std::string match(onnx_reader<T>& r, log_softmax_layer<T, N>& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        return detail::onnx_softmax_form<T, log_softmax_layer<T, N>>::match(r, "LogSoftmax", l, at,
                                                                            x, rank);
    }
};

} // namespace xtnn
