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
#include <xtnn/core/files.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/io/architecture.hpp>
#include <xtnn/onnx/forms.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/writer.hpp>
#include <xtnn/version.hpp>

namespace xtnn {

namespace detail {

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
/// Each layer is written by its type's form (onnx_form, include/xtnn/onnx/forms/): dense
/// (Gemm), conv2d (Conv, "same" padding written out), max_pool2d, avg_pool2d (MaxPool,
/// AveragePool), global_avg_pool2d (GlobalAveragePool then Flatten), flatten, batch norm
/// (BatchNormalization with the running statistics: the inference form), softmax and
/// log_softmax (axis -1), each activation (its ONNX operator; gelu as its formula with Erf, or
/// Tanh when approximate), residual (Add), nested sequentials; dropout, random_affine and
/// identity write nothing. A model with a layer whose type has no form does not compile (give
/// it one: docs/interop.md). The file also
/// records the model's architecture (see save_weights()) in its metadata, key "xtnn_architecture",
/// which load_onnx() checks. The graph is validated with ONNX's checker before it is written, under
/// a temporary name renamed into place.
///
/// @param model the model to write (its parameters and running statistics are the weights).
/// @param path the file to write.
/// @param input_shape the shape of an input (the batch extent is any; it is written as free).
/// @throws shape_error if the model rejects `input_shape`; io_error naming the file and the
/// layer for a layer that cannot be written (batch norm without running statistics), or if
/// the file cannot be written.
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
    onnx_writer<T> writer(graph, where);
    const std::string y = writer.emit(model, onnx_place{}, "input");
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
