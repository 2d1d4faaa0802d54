/// @file
/// What save_onnx and load_onnx share: Debian's ONNX protobuf classes, the opset, the
/// metadata key of the architecture record, and the walk that gives each layer of a model
/// description its state-dict prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <onnx/onnx_pb.h>
#include <string>
#include <string_view>

#include <xtnn/core/description.hpp>

namespace xtnn {

/// @defgroup onnx ONNX
/// The optional ONNX component (`xtnn::onnx`, `find_package(xtnn COMPONENTS onnx)`): models to
/// and from ONNX files, with Debian's ONNX library (libonnx-dev).

namespace detail {

/// The ONNX operator set save_onnx() writes (and the oldest load_onnx() reads): 13, whose
/// Softmax normalizes one axis as xtnn's does.
inline constexpr std::int64_t onnx_opset = 13;

/// The ONNX IR version of the files save_onnx() writes (ONNX 1.8's, the first of opset 13).
inline constexpr std::int64_t onnx_ir_version = 7;

/// The key of the model's architecture record (the JSON of io/architecture.hpp) among an ONNX
/// model's metadata_props.
inline constexpr std::string_view onnx_architecture_key = "xtnn_architecture";

/// The state-dict prefix of a container's child: a sequential's layer `i` is "<prefix><i>.";
/// a residual's block keeps the residual's prefix (its parameters are the block's, unprefixed)
/// and its projection is "<prefix>projection." (residual::parameters()).
inline std::string child_prefix(const layer_description& container, const std::string& prefix,
                                std::size_t i) {
    if (container.kind == "residual") {
        return i == 0 ? prefix : prefix + "projection.";
    }
    return prefix + std::to_string(i) + ".";
}

/// An ONNX attribute of `node`, or null.
inline const onnx::AttributeProto* onnx_attribute(const onnx::NodeProto& node,
                                                  std::string_view name) {
    for (const auto& a : node.attribute()) {
        if (a.name() == name) {
            return &a;
        }
    }
    return nullptr;
}

} // namespace detail

} // namespace xtnn
