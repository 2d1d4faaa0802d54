/// @file
/// What the ONNX writer, reader and forms share: Debian's ONNX protobuf classes, the opset,
/// the metadata key of the architecture record, a layer's place in its model, its arrays, and
/// the declaration of onnx_form, the per-layer-type export and match.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <onnx/onnx_pb.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/core/visit.hpp>

namespace xtnn {

/// @defgroup onnx ONNX
/// The optional ONNX component (`xtnn::onnx`, `find_package(xtnn COMPONENTS onnx)`): models to
/// and from ONNX files, with Debian's ONNX library (libonnx-dev).

/// How a layer type is written to and read from ONNX: its form. A specialization for layer
/// type `L` holds, side by side,
/// @code
/// template <class T>
/// struct onnx_form<my_layer<T>> {
///     // adds the nodes of `layer` reading tensor x; returns the name of its output
///     static std::string emit(xtnn::onnx_writer<T>& w, my_layer<T>& layer,
///                             const xtnn::onnx_place& at, const std::string& x);
///     // finds those nodes reading x, checks their attributes, stages the weights; returns
///     // the output and updates `rank`, the output's rank
///     static std::string match(xtnn::onnx_reader<T>& r, my_layer<T>& layer,
///                              const xtnn::onnx_place& at, const std::string& x,
///                              std::size_t& rank);
/// };
/// @endcode
/// Every built-in layer has one (include/xtnn/onnx/forms/); a layer of one's own gets one the
/// same way (docs/interop.md). save_onnx() and load_onnx() of a model with a layer that has
/// none do not compile.
/// @ingroup onnx
template <class L>
struct onnx_form {
    static constexpr bool none = true; ///< No form: the primary template.
};

/// A form that matches two neighbouring layers of a sequential at once, as an exporter
/// fuses them (PyTorch folds an eval-mode batch norm into the Conv before it):
/// `static std::optional<std::string> match(reader, first, second, at_first, at_second, x,
/// rank)`, which returns nothing, having changed nothing, when the graph holds them apart.
/// @ingroup onnx
template <class First, class Second>
struct onnx_pair_form {
    static constexpr bool none = true; ///< No pair form: the primary template.
};

/// Whether layer type `L` has an ONNX form.
/// @ingroup onnx
template <class L>
concept has_onnx_form = !requires {
    onnx_form<L>::none;
};

/// Whether layer types `First` and `Second` have a pair form.
/// @ingroup onnx
template <class First, class Second>
concept has_onnx_pair_form = !requires {
    onnx_pair_form<First, Second>::none;
};

/// Where a layer sits in its model: its state-dict prefix ("2.0.", the names of its arrays)
/// and its index path ("2.0", in messages; "" for the model itself).
/// @ingroup onnx
struct onnx_place {
    std::string prefix; ///< "2.0.": the layer's arrays are "2.0.weight"…
    std::string path;   ///< "2.0": how messages name the layer.

    /// The place of a container's child `index` with key `key` (see visit()).
    onnx_place child(std::string_view key, std::size_t index) const {
        return {child_prefix(prefix, key),
                path.empty() ? std::to_string(index) : path + "." + std::to_string(index)};
    }
};

/// "layer 2.0 (conv2d(in_channels=…))": how messages name a layer at `at` (forms use it).
/// @ingroup onnx
template <class L>
std::string onnx_layer_text(const L& layer, const onnx_place& at) {
    return (at.path.empty() ? std::string("the model") : "layer " + at.path) + " (" +
           describe(layer).to_string() + ")";
}

namespace detail {

/// The ONNX operator set save_onnx() writes: 13, whose Softmax normalizes one axis as xtnn's
/// does. load_onnx() reads 11 to 17.
inline constexpr std::int64_t onnx_opset = 13;
/// The oldest and newest operator sets load_onnx() reads.
inline constexpr std::int64_t onnx_oldest_opset = 11;
inline constexpr std::int64_t onnx_newest_opset = 17;

/// The ONNX IR version of the files save_onnx() writes (ONNX 1.8's, the first of opset 13).
inline constexpr std::int64_t onnx_ir_version = 7;

/// The key of the model's architecture record (the JSON of io/architecture.hpp) among an ONNX
/// model's metadata_props.
inline constexpr std::string_view onnx_architecture_key = "xtnn_architecture";

template <class T>
constexpr int onnx_element_type() {
    return std::same_as<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE;
}

/// One array of a layer: its values and shape.
template <class T>
struct onnx_array {
    std::span<T> values;
    std::vector<std::size_t> shape;
};

/// The parameter or floating-point buffer `name` ("weight", "running_mean") of `layer`, if it
/// has one (the integer num_batches_tracked has no ONNX counterpart).
template <class T, class L>
std::optional<onnx_array<T>> layer_array(L& layer, std::string_view name) {
    for (auto& p : layer.parameters()) {
        if (p.name == name) {
            return onnx_array<T>{p.value, p.shape};
        }
    }
    if constexpr (has_buffers<L>) {
        for (auto& b : layer.buffers()) {
            if (const auto* values = std::get_if<std::span<T>>(&b.value);
                values && b.name == name) {
                return onnx_array<T>{*values, b.shape};
            }
        }
    }
    return std::nullopt;
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
