/// @file
/// save_onnx: a model as an ONNX file (opset 13, a dynamic batch dimension, initializers named
/// after the state dict), written with Debian's ONNX library.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <numbers>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/files.hpp>
#include <xtnn/io/architecture.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/version.hpp>

namespace xtnn {

namespace detail {

template <class T>
constexpr int onnx_element_type() {
    return std::same_as<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE;
}

/// Builds the graph of a model from its description, one layer kind at a time.
template <class T>
class onnx_writer {
  public:
    onnx_writer(onnx::GraphProto& graph, std::map<std::string, onnx_array<T>> state,
                std::string where)
        : graph_(graph), state_(std::move(state)), where_(std::move(where)) {}

    /// Adds the nodes of layer `d` (state-dict prefix `prefix`, shown as `path`) reading tensor
    /// `x`; returns the name of its output.
    std::string emit(const layer_description& d, const std::string& prefix, const std::string& x,
                     const std::string& path) {
        const std::string& k = d.kind;
        if (k == "sequential") {
            std::string y = x;
            for (std::size_t i = 0; i < d.layers.size(); ++i) {
                y = emit(d.layers[i], child_prefix(d, prefix, i), y,
                         (path.empty() ? "" : path + ".") + std::to_string(i));
            }
            return y;
        }
        if (k == "residual") {
            const std::string f = emit(d.layers.at(0), child_prefix(d, prefix, 0), x, path + ".0");
            const std::string shortcut =
                d.layers.size() > 1 ? emit(d.layers[1], child_prefix(d, prefix, 1), x, path + ".1")
                                    : x;
            return node("Add", prefix, {shortcut, f});
        }
        if (k == "dense") {
            std::vector<std::string> in{x, weight(prefix + "weight", path)};
            if (option_flag(d, "bias")) {
                in.push_back(weight(prefix + "bias", path));
            }
            auto& n = add_node("Gemm", prefix, in);
            set_int(n, "transB", 1);
            return n.output(0);
        }
        if (k == "conv2d") {
            std::vector<std::string> in{x, weight(prefix + "weight", path)};
            if (option_flag(d, "bias")) {
                in.push_back(weight(prefix + "bias", path));
            }
            auto& n = add_node("Conv", prefix, in);
            set_ints(n, "kernel_shape", option_list(d, "kernel_size"));
            set_ints(n, "strides", option_list(d, "stride"));
            set_ints(n, "pads", onnx_pads(d));
            set_ints(n, "dilations", option_list(d, "dilation"));
            return n.output(0);
        }
        if (k == "max_pool2d" || k == "avg_pool2d") {
            auto pads = onnx_pads(d);
            std::string in = x;
            const bool padded = pads != std::vector<std::int64_t>(4, 0);
            if (k == "avg_pool2d" && option_flag(d, "count_include_pad") && padded) {
                // Zeros counted in the mean: an explicit Pad, as PyTorch's exporter writes it
                // (OpenCV 4.6 ignores count_include_pad)
                in = node("Pad", prefix,
                          {x, integers(prefix + "pads",
                                       {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]})});
                pads.assign(4, 0);
            }
            auto& n = add_node(k == "max_pool2d" ? "MaxPool" : "AveragePool", prefix, {in});
            set_ints(n, "kernel_shape", option_list(d, "kernel_size"));
            set_ints(n, "strides", option_list(d, "stride"));
            set_ints(n, "pads", pads);
            return n.output(0);
        }
        if (k == "global_avg_pool2d") {
            return flatten(node("GlobalAveragePool", prefix, {x}), prefix);
        }
        if (k == "flatten") {
            return flatten(x, prefix);
        }
        if (k == "batch_norm1d" || k == "batch_norm2d") {
            return batch_norm(d, prefix, x, path);
        }
        if (k == "dropout" || k == "random_affine") {
            return x; // inference: the identity
        }
        if (k == "softmax" || k == "log_softmax") {
            auto& n = add_node(k == "softmax" ? "Softmax" : "LogSoftmax", prefix, {x});
            set_int(n, "axis", -1);
            return n.output(0);
        }
        return activation(d, prefix, x, path);
    }

    /// Renames tensor `y` (a node's output, or the graph's input) to `name`.
    void rename_output(const std::string& y, const std::string& name) {
        for (auto& n : *graph_.mutable_node()) {
            for (auto& out : *n.mutable_output()) {
                if (out == y) {
                    out = name;
                }
            }
            for (auto& in : *n.mutable_input()) {
                if (in == y) {
                    in = name;
                }
            }
        }
        if (y == name) {
            return;
        }
        bool produced = false;
        for (const auto& n : graph_.node()) {
            for (const auto& out : n.output()) {
                produced = produced || out == name;
            }
        }
        if (!produced) { // the model computes nothing (only dropout, augmentation): output = input
            add_node("Identity", "output_", {y}).set_output(0, name);
        }
    }

  private:
    std::string activation(const layer_description& d, const std::string& prefix,
                           const std::string& x, const std::string& path) {
        static const std::map<std::string, std::string, std::less<>> plain{
            {"relu", "Relu"},
            {"sigmoid", "Sigmoid"},
            {"tanh", "Tanh"},
            {"softplus", "Softplus"},
            {"identity", "Identity"}};
        const std::string& k = d.kind;
        if (const auto op = plain.find(k); op != plain.end() && d.options.empty()) {
            return node(op->second, prefix, {x});
        }
        if (k == "leaky_relu" || k == "elu") {
            auto& n = add_node(k == "elu" ? "Elu" : "LeakyRelu", prefix, {x});
            set_float(n, "alpha", option_real(d, k == "elu" ? "alpha" : "negative_slope"));
            return n.output(0);
        }
        if (k == "gelu") {
            const std::string half = constant(prefix + "gelu.half", 0.5);
            const std::string one = constant(prefix + "gelu.one", 1.0);
            std::string inner;
            if (option_flag(d, "approximate")) {
                // tanh(√(2/π) (x + 0.044715 x³))
                const std::string x3 = node("Mul", prefix, {node("Mul", prefix, {x, x}), x});
                const std::string cubic =
                    node("Mul", prefix, {x3, constant(prefix + "gelu.k1", 0.044715)});
                const std::string sum = node("Add", prefix, {x, cubic});
                inner =
                    node("Tanh", prefix,
                         {node("Mul", prefix,
                               {sum, constant(prefix + "gelu.k0",
                                              std::numbers::sqrt2 * std::numbers::inv_sqrtpi)})});
            } else {
                // erf(x / √2)
                inner = node("Erf", prefix,
                             {node("Div", prefix,
                                   {x, constant(prefix + "gelu.sqrt2", std::numbers::sqrt2)})});
            }
            const std::string scaled = node("Mul", prefix, {x, node("Add", prefix, {inner, one})});
            return node("Mul", prefix, {scaled, half});
        }
        throw io_error(where_ + ": layer " + path + " (" + d.to_string() +
                       ") has no ONNX form; save_onnx writes xtnn's own layers");
    }

    std::string batch_norm(const layer_description& d, const std::string& prefix,
                           const std::string& x, const std::string& path) {
        if (!option_flag(d, "track_running_stats")) {
            throw io_error(where_ + ": layer " + path +
                           " (batch norm without running statistics) has no inference form: it "
                           "normalizes each batch by its own statistics, which ONNX's "
                           "BatchNormalization cannot express");
        }
        const std::size_t channels = static_cast<std::size_t>(option_integer(d, "num_features"));
        std::string scale, shift;
        if (option_flag(d, "affine")) {
            scale = weight(prefix + "weight", path);
            shift = weight(prefix + "bias", path);
        } else { // no learned scale and shift: 1 and 0
            scale = filled(prefix + "onnx_scale", channels, T(1));
            shift = filled(prefix + "onnx_shift", channels, T(0));
        }
        auto& n = add_node("BatchNormalization", prefix,
                           {x, scale, shift, weight(prefix + "running_mean", path),
                            weight(prefix + "running_var", path)});
        set_float(n, "epsilon", option_real(d, "eps"));
        // ONNX weighs the old estimate by momentum; PyTorch (and xtnn) the new one
        set_float(n, "momentum", 1.0 - option_real(d, "momentum"));
        return n.output(0);
    }

    std::string flatten(const std::string& x, const std::string& prefix) {
        auto& n = add_node("Flatten", prefix, {x});
        set_int(n, "axis", 1);
        return n.output(0);
    }

    // Nodes: named "<prefix><Op>", made unique; the output has the node's name.
    onnx::NodeProto& add_node(const std::string& op, const std::string& prefix,
                              const std::vector<std::string>& inputs) {
        std::string name = prefix + op;
        for (int i = 1; used_.count(name) != 0; ++i) {
            name = prefix + op + "_" + std::to_string(i);
        }
        used_.insert(name);
        auto& n = *graph_.add_node();
        n.set_op_type(op);
        n.set_name(name);
        for (const auto& in : inputs) {
            n.add_input(in);
        }
        n.add_output(name);
        return n;
    }
    std::string node(const std::string& op, const std::string& prefix,
                     const std::vector<std::string>& inputs) {
        return add_node(op, prefix, inputs).output(0);
    }

    // Initializers: the model's own arrays under their state-dict names.
    std::string weight(const std::string& name, const std::string& path) {
        const auto found = state_.find(name);
        if (found == state_.end()) {
            throw io_error(where_ + ": layer " + path + ": the model has no array '" + name + "'");
        }
        if (used_.insert(name).second) {
            initializer(name, found->second.shape, std::span<const T>(found->second.values));
        }
        return name;
    }
    std::string filled(const std::string& name, std::size_t n, T value) {
        const std::vector<T> values(n, value);
        initializer(name, {n}, std::span<const T>(values));
        return name;
    }
    std::string constant(const std::string& name, double value) {
        if (used_.insert(name).second) {
            const T v[1] = {static_cast<T>(value)};
            initializer(name, {}, std::span<const T>(v));
        }
        return name;
    }
    std::string integers(const std::string& name, const std::vector<std::int64_t>& values) {
        initializer(name, {values.size()}, std::span<const std::int64_t>(values));
        return name;
    }
    template <class V>
    void initializer(const std::string& name, const std::vector<std::size_t>& shape,
                     std::span<const V> values) {
        auto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(std::same_as<V, std::int64_t> ? onnx::TensorProto::INT64
                                                      : onnx_element_type<V>());
        for (const auto extent : shape) {
            t.add_dims(static_cast<std::int64_t>(extent));
        }
        t.set_raw_data(
            std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(V)));
    }

    static void set_int(onnx::NodeProto& n, const char* name, std::int64_t v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(v);
    }
    static void set_ints(onnx::NodeProto& n, const char* name, const std::vector<std::int64_t>& v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INTS);
        for (const auto i : v) {
            a.add_ints(i);
        }
    }
    static void set_float(onnx::NodeProto& n, const char* name, double v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(static_cast<float>(v));
    }

    onnx::GraphProto& graph_;
    std::map<std::string, onnx_array<T>> state_;
    std::string where_;
    std::set<std::string> used_;
};

inline void onnx_value_info(onnx::ValueInfoProto& v, const std::string& name, int element_type,
                            std::span<const std::size_t> shape) {
    v.set_name(name);
    auto& tensor_type = *v.mutable_type()->mutable_tensor_type();
    tensor_type.set_elem_type(element_type);
    auto& dims = *tensor_type.mutable_shape();
    dims.add_dim()->set_dim_param("batch");
    for (std::size_t i = 1; i < shape.size(); ++i) {
        dims.add_dim()->set_dim_value(static_cast<std::int64_t>(shape[i]));
    }
}

} // namespace detail

/// Writes `model` as an ONNX file that any ONNX runtime, OpenCV's dnn module or PyTorch's
/// tooling reads: opset 13, one input "input" of shape `input_shape` whose first (batch)
/// extent is left free ("batch"), one output "output", and the parameters and running
/// statistics as initializers named as in the state dict ("0.weight", "1.running_mean").
///
/// Every built-in layer has an ONNX form: dense (Gemm), conv2d (Conv, "same" padding written
/// out), max_pool2d, avg_pool2d (MaxPool, AveragePool), global_avg_pool2d (GlobalAveragePool
/// then Flatten), flatten, batch norm (BatchNormalization with the running statistics: the
/// inference form), softmax and log_softmax (axis -1), each activation (its ONNX operator;
/// gelu as its formula with Erf, or Tanh when approximate), residual (Add), nested
/// sequentials; dropout and random_affine, the identity at inference, write nothing. The file also
/// records the model's architecture (see save_weights()) in its metadata, key "xtnn_architecture",
/// which load_onnx() checks. The graph is validated with ONNX's checker before it is written, under
/// a temporary name renamed into place.
///
/// @param model the model to write (its parameters and running statistics are the weights).
/// @param path the file to write.
/// @param input_shape the shape of an input (the batch extent is any; it is written as free).
/// @throws shape_error if the model rejects `input_shape`; io_error naming the file and the
/// layer for a layer without an ONNX form (a layer of your own, or batch norm without running
/// statistics), or if the file cannot be written.
/// @code
/// xtnn::save_onnx(model, "mnist_cnn.onnx", {1, 1, 28, 28});
/// @endcode
/// @ingroup onnx
template <class Model>
void save_onnx(Model& model, const std::filesystem::path& path,
               const shape<Model::input_rank>& input_shape) {
    using T = typename Model::value_type;
    const std::string where = "save_onnx: '" + path.string() + "'";
    shape<Model::input_rank> probe = input_shape;
    probe[0] = 1;
    const auto output_shape = model.output_shape(probe);
    const auto architecture = architecture_of(model);

    onnx::ModelProto proto;
    proto.set_ir_version(detail::onnx_ir_version);
    proto.set_producer_name("xtnn");
    proto.set_producer_version(architecture.xtnn_version);
    auto& opset = *proto.add_opset_import();
    opset.set_domain("");
    opset.set_version(detail::onnx_opset);
    auto& record = *proto.add_metadata_props();
    record.set_key(std::string(detail::onnx_architecture_key));
    record.set_value(detail::architecture_to_json(architecture));

    auto& graph = *proto.mutable_graph();
    graph.set_name(architecture.model.kind);
    detail::onnx_writer<T> writer(graph, detail::state_arrays(model), where);
    const std::string y = writer.emit(architecture.model, "", "input", "");
    writer.rename_output(y, "output");
    constexpr int element = detail::onnx_element_type<T>();
    detail::onnx_value_info(*graph.add_input(), "input", element, input_shape);
    detail::onnx_value_info(*graph.add_output(), "output", element, output_shape);

    try {
        onnx::checker::check_model(proto);
    } catch (const std::exception& e) {
        throw io_error(where +
                       ": ONNX's checker refused the graph xtnn built (a bug in xtnn: "
                       "please report it): " +
                       e.what());
    }
    std::string bytes;
    if (!proto.SerializeToString(&bytes)) {
        throw io_error(where + ": the model is too large for one ONNX file (2 GB)");
    }
    detail::write_text_file(path, where, [&](std::ostream& out) { out << bytes; });
}

} // namespace xtnn
