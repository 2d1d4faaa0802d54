/// @file
/// What save_onnx and load_onnx share: Debian's ONNX protobuf classes, the opset, the
/// metadata key of the architecture record, the walk that gives each layer of a model
/// description its state-dict prefix, the options of descriptions and the model's arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <onnx/onnx_pb.h>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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

/// Options of a description written by xtnn's own layers (their types are known).
inline bool option_flag(const layer_description& d, const char* key) {
    return std::get<bool>(*d.option(key));
}
inline double option_real(const layer_description& d, const char* key) {
    return std::get<double>(*d.option(key));
}
inline std::int64_t option_integer(const layer_description& d, const char* key) {
    return std::get<std::int64_t>(*d.option(key));
}
inline std::vector<std::int64_t> option_list(const layer_description& d, const char* key) {
    return std::get<std::vector<std::int64_t>>(*d.option(key));
}

/// ONNX's pads, [top, left, bottom, right], of a conv2d or pooling description: its (height,
/// width) padding on both sides, or for a conv2d's "same" the padding PyTorch computes (one
/// more at the bottom and right for an odd total).
inline std::vector<std::int64_t> onnx_pads(const layer_description& d) {
    if (std::holds_alternative<std::string>(*d.option("padding"))) {
        const auto kernel = option_list(d, "kernel_size");
        const auto dilation = option_list(d, "dilation");
        const std::int64_t h = dilation[0] * (kernel[0] - 1), w = dilation[1] * (kernel[1] - 1);
        return {h / 2, w / 2, h - h / 2, w - w / 2};
    }
    const auto hw = option_list(d, "padding");
    return {hw[0], hw[1], hw[0], hw[1]};
}

/// One array of a model's state: its values and shape.
template <class T>
struct onnx_array {
    std::span<T> values;
    std::vector<std::size_t> shape;
};

/// A model's parameters and floating-point buffers by state-dict name (the integer
/// num_batches_tracked has no ONNX counterpart).
template <class Model>
std::map<std::string, onnx_array<typename Model::value_type>> state_arrays(Model& model) {
    using T = typename Model::value_type;
    std::map<std::string, onnx_array<T>> state;
    for (const auto& p : model.parameters()) {
        state[p.name] = {p.value, p.shape};
    }
    if constexpr (requires { model.buffers(); }) {
        for (const auto& b : model.buffers()) {
            if (const auto* values = std::get_if<std::span<T>>(&b.value)) {
                state[b.name] = {*values, b.shape};
            }
        }
    }
    return state;
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
