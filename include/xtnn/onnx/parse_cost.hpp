/// @file
/// What parsing an ONNX file would cost in memory, found by reading it once as a stream with
/// ONNX's schema, before protobuf builds it: a file of a few bytes per element can decode to
/// many times its size (a packed int64 of one-byte values: 16×; empty nodes: 80×).
#pragma once

#include <cstddef>
#include <cstdint>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/onnx_pb.h>
#include <string>

#include <xtnn/core/errors.hpp>

namespace xtnn::detail {

/// The messages of ONNX's schema (onnx.proto, IR version 8) that an ONNX file nests.
enum class onnx_message {
    model,
    graph,
    node,
    attribute,
    tensor,
    sparse_tensor,
    value_info,
    type,
    type_tensor,
    type_nested, ///< TypeProto.Sequence and .Optional: an element type
    type_map,
    shape,
    dimension,
    function,
    training_info,
    annotation,
    string_entry,
    opset,
    segment,
    other ///< a field this schema does not list: protobuf keeps it as unknown bytes
};

/// What a field holds, as the parser stores it.
struct onnx_field {
    enum kind_type { message, text, varints, fixed, scalar, unknown } kind = unknown;
    onnx_message child = onnx_message::other; ///< For a message.
    std::size_t element = 0;                  ///< Bytes per element of varints or fixed.
};

/// Field `number` of `m`.
inline onnx_field onnx_field_of(onnx_message m, int number) {
    using M = onnx_message;
    const auto msg = [](M child) { return onnx_field{onnx_field::message, child, 0}; };
    const onnx_field text{onnx_field::text, M::other, 0};
    const onnx_field scalar{onnx_field::scalar, M::other, 0};
    const auto varints = [](std::size_t bytes) {
        return onnx_field{onnx_field::varints, M::other, bytes};
    };
    const auto fixed = [](std::size_t bytes) {
        return onnx_field{onnx_field::fixed, M::other, bytes};
    };
    switch (m) {
    case M::model:
        switch (number) {
        case 1:
        case 5:
            return scalar;
        case 2:
        case 3:
        case 4:
        case 6:
            return text;
        case 7:
            return msg(M::graph);
        case 8:
            return msg(M::opset);
        case 14:
            return msg(M::string_entry);
        case 20:
            return msg(M::training_info);
        case 25:
            return msg(M::function);
        default:
            break;
        }
        break;
    case M::graph:
        switch (number) {
        case 1:
            return msg(M::node);
        case 2:
        case 10:
            return text;
        case 5:
            return msg(M::tensor);
        case 15:
            return msg(M::sparse_tensor);
        case 11:
        case 12:
        case 13:
            return msg(M::value_info);
        case 14:
            return msg(M::annotation);
        default:
            break;
        }
        break;
    case M::node:
        switch (number) {
        case 1:
        case 2:
        case 3:
        case 4:
        case 6:
        case 7:
            return text;
        case 5:
            return msg(M::attribute);
        default:
            break;
        }
        break;
    case M::attribute:
        switch (number) {
        case 1:
        case 4:
        case 9:
        case 13:
        case 21:
            return text;
        case 2:
        case 3:
        case 20:
            return scalar;
        case 5:
        case 10:
            return msg(M::tensor);
        case 6:
        case 11:
            return msg(M::graph);
        case 22:
        case 23:
            return msg(M::sparse_tensor);
        case 14:
        case 15:
            return msg(M::type);
        case 7:
            return fixed(4);
        case 8:
            return varints(8);
        default:
            break;
        }
        break;
    case M::tensor:
        switch (number) {
        case 1:
        case 7:
        case 11:
            return varints(8);
        case 5:
            return varints(4);
        case 2:
        case 14:
            return scalar;
        case 3:
            return msg(M::segment);
        case 4:
            return fixed(4);
        case 10:
            return fixed(8);
        case 6:
        case 8:
        case 9:
        case 12:
            return text;
        case 13:
            return msg(M::string_entry);
        default:
            break;
        }
        break;
    case M::sparse_tensor:
        switch (number) {
        case 1:
        case 2:
            return msg(M::tensor);
        case 3:
            return varints(8);
        default:
            break;
        }
        break;
    case M::value_info:
        switch (number) {
        case 1:
        case 3:
            return text;
        case 2:
            return msg(M::type);
        default:
            break;
        }
        break;
    case M::type:
        switch (number) {
        case 1:
        case 8:
            return msg(M::type_tensor);
        case 4:
        case 9:
            return msg(M::type_nested);
        case 5:
            return msg(M::type_map);
        case 6:
            return text;
        default:
            break;
        }
        break;
    case M::type_tensor:
        switch (number) {
        case 1:
            return scalar;
        case 2:
            return msg(M::shape);
        default:
            break;
        }
        break;
    case M::type_nested:
        return number == 1 ? msg(M::type) : onnx_field{};
    case M::type_map:
        switch (number) {
        case 1:
            return scalar;
        case 2:
            return msg(M::type);
        default:
            break;
        }
        break;
    case M::shape:
        return number == 1 ? msg(M::dimension) : onnx_field{};
    case M::dimension:
        switch (number) {
        case 1:
            return scalar;
        case 2:
        case 3:
            return text;
        default:
            break;
        }
        break;
    case M::function:
        switch (number) {
        case 1:
        case 4:
        case 5:
        case 6:
        case 8:
        case 10:
            return text;
        case 7:
            return msg(M::node);
        case 9:
            return msg(M::opset);
        case 11:
            return msg(M::attribute);
        default:
            break;
        }
        break;
    case M::training_info:
        switch (number) {
        case 1:
        case 2:
            return msg(M::graph);
        case 3:
        case 4:
            return msg(M::string_entry);
        default:
            break;
        }
        break;
    case M::annotation:
        switch (number) {
        case 1:
            return text;
        case 2:
            return msg(M::string_entry);
        default:
            break;
        }
        break;
    case M::string_entry:
        return number == 1 || number == 2 ? text : onnx_field{};
    case M::opset:
        return number == 1 ? text : number == 2 ? scalar : onnx_field{};
    case M::segment:
        return number == 1 || number == 2 ? scalar : onnx_field{};
    case M::other:
        break;
    }
    return {};
}

/// The memory one message of `m` takes once parsed, before its fields' own: the object and
/// its place in a repeated field.
inline std::size_t onnx_message_bytes(onnx_message m) {
    using M = onnx_message;
    constexpr std::size_t slot = sizeof(void*);
    switch (m) {
    case M::model:
        return sizeof(onnx::ModelProto);
    case M::graph:
        return sizeof(onnx::GraphProto) + slot;
    case M::node:
        return sizeof(onnx::NodeProto) + slot;
    case M::attribute:
        return sizeof(onnx::AttributeProto) + slot;
    case M::tensor:
        return sizeof(onnx::TensorProto) + slot;
    case M::sparse_tensor:
        return sizeof(onnx::SparseTensorProto) + slot;
    case M::value_info:
        return sizeof(onnx::ValueInfoProto) + slot;
    case M::type:
        return sizeof(onnx::TypeProto) + slot;
    case M::type_tensor:
        return sizeof(onnx::TypeProto_Tensor) + slot;
    case M::type_nested:
        return sizeof(onnx::TypeProto_Sequence) + slot;
    case M::type_map:
        return sizeof(onnx::TypeProto_Map) + slot;
    case M::shape:
        return sizeof(onnx::TensorShapeProto) + slot;
    case M::dimension:
        return sizeof(onnx::TensorShapeProto_Dimension) + slot;
    case M::function:
        return sizeof(onnx::FunctionProto) + slot;
    case M::training_info:
        return sizeof(onnx::TrainingInfoProto) + slot;
    case M::annotation:
        return sizeof(onnx::TensorAnnotation) + slot;
    case M::string_entry:
        return sizeof(onnx::StringStringEntryProto) + slot;
    case M::opset:
        return sizeof(onnx::OperatorSetIdProto) + slot;
    case M::segment:
        return sizeof(onnx::TensorProto_Segment) + slot;
    case M::other:
        return 0;
    }
    return 0;
}

/// Adds to `cost` the memory message `m`, which `in` holds up to its limit, takes once parsed:
/// every message object, every string (its bytes and its object), every element of a repeated
/// number (twice its size: a growing array), every unknown field (its bytes and a record).
/// @throws io_error `where: …` for a file that is not protobuf or nests deeper than protobuf's
/// own limit (100).
inline void add_onnx_cost(google::protobuf::io::CodedInputStream& in, onnx_message m, int depth,
                          std::uint64_t& cost, const std::string& where) {
    using wire = google::protobuf::internal::WireFormatLite;
    const auto corrupt = [&] {
        throw io_error(where + ": not an ONNX model (truncated, corrupt or another format)");
    };
    if (depth > 100) {
        throw io_error(where + ": the model nests deeper than 100 levels");
    }
    constexpr std::uint64_t string_bytes = sizeof(std::string) + sizeof(void*);
    constexpr std::uint64_t unknown_bytes = 32;
    cost += onnx_message_bytes(m);
    for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
        const auto field = onnx_field_of(m, wire::GetTagFieldNumber(tag));
        switch (wire::GetTagWireType(tag)) {
        case wire::WIRETYPE_LENGTH_DELIMITED: {
            std::uint32_t length = 0;
            if (!in.ReadVarint32(&length)) {
                corrupt();
            }
            if (field.kind == onnx_field::message) {
                const auto limit = in.PushLimit(static_cast<int>(length));
                add_onnx_cost(in, field.child, depth + 1, cost, where);
                if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) {
                    corrupt();
                }
                in.PopLimit(limit);
            } else if (field.kind == onnx_field::varints) {
                const auto limit = in.PushLimit(static_cast<int>(length));
                std::uint64_t value = 0;
                while (in.BytesUntilLimit() > 0) {
                    if (!in.ReadVarint64(&value)) {
                        corrupt();
                    }
                    cost += 2 * field.element;
                }
                in.PopLimit(limit);
            } else {
                if (!in.Skip(static_cast<int>(length))) {
                    corrupt();
                }
                cost += length + (field.kind == onnx_field::fixed  ? 0
                                  : field.kind == onnx_field::text ? string_bytes
                                                                   : unknown_bytes);
            }
            break;
        }
        case wire::WIRETYPE_VARINT:
        case wire::WIRETYPE_FIXED32:
        case wire::WIRETYPE_FIXED64: {
            if (!wire::SkipField(&in, tag)) {
                corrupt();
            }
            // an element of a repeated number written unpacked, or an unknown field
            cost += field.kind == onnx_field::varints || field.kind == onnx_field::fixed
                        ? 2 * std::max<std::uint64_t>(field.element, 4)
                    : field.kind == onnx_field::scalar ? 0
                                                       : unknown_bytes;
            break;
        }
        default:
            if (!wire::SkipField(&in, tag)) { // groups: kept as unknown fields
                corrupt();
            }
            cost += unknown_bytes;
            break;
        }
    }
}

} // namespace xtnn::detail
