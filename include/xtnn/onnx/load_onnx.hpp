/// @file
/// load_onnx: an ONNX file's weights into a typed xtnn model, node by node checked against the
/// model's layers.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/wire_format_lite.h>
#include <limits>
#include <map>
#include <new>
#include <numbers>
#include <onnx/onnx_pb.h>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
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
#include <xtnn/onnx/parse_cost.hpp>
#include <xtnn/onnx/reader.hpp>

namespace xtnn {

/// Options of load_onnx().
/// @ingroup onnx
struct onnx_load_options {
    /// Compare the model with the architecture an xtnn-written file records in its metadata
    /// (as load_weights() does); files from other exporters have none.
    bool check_architecture = true;
};

namespace detail {

/// The size of the ONNX file at `path`, a regular file of at most 2 GB (protobuf's limit).
/// @throws io_error `where: …` otherwise.
inline std::uintmax_t onnx_file_size(const std::filesystem::path& path, const std::string& where) {
    require_regular_file(path, where);
    const auto size = std::filesystem::file_size(path);
    if (size >= (std::uintmax_t(1) << 31)) {
        throw io_error(where + ": " + std::to_string(size) +
                       " bytes; an ONNX file holds less than 2 GB");
    }
    return size;
}

/// An ONNX file as protobuf's input stream, which closes it.
class onnx_file_stream {
  public:
    /// Opens `path`.
    /// @throws io_error `where: cannot open the file: …`.
    onnx_file_stream(const std::filesystem::path& path, const std::string& where)
        : stream_(open(path, where)) {
        stream_.SetCloseOnDelete(true);
    }
    onnx_file_stream(const onnx_file_stream&) = delete;
    onnx_file_stream& operator=(const onnx_file_stream&) = delete;
    ~onnx_file_stream() = default;
    /// The stream.
    google::protobuf::io::FileInputStream& get() { return stream_; }

  private:
    static int open(const std::filesystem::path& path, const std::string& where) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw io_error(where +
                           ": cannot open the file: " + std::generic_category().message(errno));
        }
        return fd;
    }
    google::protobuf::io::FileInputStream stream_;
};

/// At most this many times an ONNX file's size, plus parse_allowance bytes, may its parsed
/// model take in memory: an exporter's file takes about its own size (weights as raw bytes).
inline constexpr std::uint64_t parse_factor = 8;
/// What any ONNX file may take parsed beyond parse_factor times its size.
inline constexpr std::uint64_t parse_allowance = std::uint64_t{16} << 20;

/// The metadata entries (key, value) of the ONNX file at `path`, read without parsing its
/// graph: every other field of the model is skipped as it is read (seeking over it where the
/// file allows), so the weights are neither parsed nor held in memory.
/// @throws io_error `where: …` for a missing, oversized, truncated or corrupt file, one without
/// a graph, or a metadata entry longer than an architecture record may be.
inline std::vector<std::pair<std::string, std::string>>
read_onnx_metadata(const std::filesystem::path& path, const std::string& where) {
    namespace pb = google::protobuf;
    using wire = pb::internal::WireFormatLite;
    const auto size = onnx_file_size(path, where);
    onnx_file_stream file(path, where);
    pb::io::CodedInputStream in(&file.get());
    const auto corrupt = [&] {
        throw io_error(where + ": not an ONNX model (truncated, corrupt or another format)");
    };
    constexpr int metadata_field = 14; // ModelProto.metadata_props
    constexpr int graph_field = 7;     // ModelProto.graph
    bool graph = false;
    std::vector<std::pair<std::string, std::string>> entries;
    for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
        const int field = wire::GetTagFieldNumber(tag);
        const bool delimited = wire::GetTagWireType(tag) == wire::WIRETYPE_LENGTH_DELIMITED;
        if (field == metadata_field && delimited) {
            std::uint32_t length = 0;
            if (!in.ReadVarint32(&length)) {
                corrupt();
            }
            if (length > architecture_max_bytes + 4096) {
                throw io_error(where + ": a metadata entry of " + std::to_string(length) +
                               " bytes; expected at most " +
                               std::to_string(architecture_max_bytes + 4096));
            }
            std::string bytes;
            onnx::StringStringEntryProto entry;
            if (!in.ReadString(&bytes, static_cast<int>(length)) || !entry.ParseFromString(bytes)) {
                corrupt();
            }
            entries.emplace_back(entry.key(), entry.value());
        } else {
            graph = graph || (field == graph_field && delimited);
            if (!wire::SkipField(&in, tag)) {
                corrupt();
            }
        }
    }
    if (static_cast<std::uintmax_t>(in.CurrentPosition()) != size) {
        corrupt();
    }
    if (!graph) {
        throw io_error(where + ": the ONNX model has no graph");
    }
    return entries;
}

/// Reads and parses an ONNX file, streamed from the file (no copy of it in memory), once a
/// first pass over it (add_onnx_cost) found that the parsed model takes at most parse_factor
/// times the file's size plus parse_allowance.
/// @throws io_error `where: …` for a missing, oversized, truncated or corrupt file, one that
/// would take more memory parsed, or a parse that runs out of memory.
inline onnx::ModelProto read_onnx_model(const std::filesystem::path& path,
                                        const std::string& where) {
    const auto size = onnx_file_size(path, where);
    const auto corrupt = [&] {
        throw io_error(where + ": not an ONNX model (truncated, corrupt or another format)");
    };
    {
        onnx_file_stream file(path, where);
        google::protobuf::io::CodedInputStream in(&file.get());
        std::uint64_t cost = 0;
        add_onnx_cost(in, onnx_message::model, 0, cost, where);
        if (static_cast<std::uintmax_t>(in.CurrentPosition()) != size) {
            corrupt();
        }
        if (cost > parse_factor * size + parse_allowance) {
            throw io_error(where + ": parsed, the file would take about " +
                           std::to_string(cost >> 20) + " MiB of memory, more than " +
                           std::to_string(parse_factor) + " times its " + std::to_string(size) +
                           " bytes (a great many small values or messages: a hostile or "
                           "damaged file)");
        }
    }
    onnx::ModelProto model;
    try {
        onnx_file_stream file(path, where);
        if (!model.ParseFromZeroCopyStream(&file.get())) {
            corrupt();
        }
    } catch (const std::bad_alloc&) {
        throw io_error(where + ": not enough memory to parse the file's " + std::to_string(size) +
                       " bytes");
    }
    if (!model.has_graph() || model.graph().node_size() == 0) {
        throw io_error(where + ": the ONNX model has no graph");
    }
    return model;
}

} // namespace detail

/// Loads the weights of an ONNX file into `model`, an xtnn model of the same layers: what a
/// model trained in PyTorch (`torch.onnx.export`) or written by save_onnx() becomes in C++.
///
/// The graph is walked from its input along the model's layers, each matched by its type's
/// form (onnx_form, include/xtnn/onnx/forms/) to the nodes it is exported as (dense: Gemm, or
/// MatMul then Add; conv2d: Conv; batch norm: BatchNormalization; the poolings: MaxPool,
/// AveragePool (after a Pad of zeros, as PyTorch writes counted padding), GlobalAveragePool;
/// flatten: Flatten or a Reshape to (batch, -1); softmax, log_softmax and each activation:
/// their operators, gelu as its formula; dropout, random_affine and identity: nothing;
/// residual: its block and an Add), with the attributes the layer has (kernel, strides, pads,
/// dilations, epsilon, alpha, transB...) and constants of its arrays' shapes, in float or
/// double (initializers or Constant nodes). Nodes that compute nothing are seen through:
/// Identity (PyTorch's exporter feeds repeated weights through them), Dropout, a Pad of zero
/// amounts. A batch norm that PyTorch's exporter folded into the Conv before it (any model in
/// eval mode) is loaded as that Conv and an identity batch norm, so the model computes what
/// the file does. Every node must belong to a layer and the last layer must give the graph's
/// output. Operator sets 11 to 17 are read.
///
/// Values are staged and copied only once the whole graph checked out, so a failed load leaves
/// the model unchanged. A file written by save_onnx() also records its architecture, which is
/// compared first (options.check_architecture).
///
/// @throws io_error naming the file, the node (its name and operator), the layer and what
/// differs, for a missing, truncated or corrupt file, an operator xtnn has not, another
/// architecture, an attribute, shape or element type that differs, a missing weight.
/// @code
/// auto model = xtnn::sequential{xtnn::conv2d{1, 32, 3}, xtnn::relu{}, …};
/// xtnn::load_onnx(model, "from_pytorch.onnx");
/// @endcode
/// @ingroup onnx
template <class Model>
void load_onnx(Model& model, const std::filesystem::path& path, onnx_load_options options = {}) {
    using T = typename Model::value_type;
    const std::string where = "load_onnx: '" + path.string() + "'";
    const onnx::ModelProto proto = detail::read_onnx_model(path, where);
    const auto architecture = architecture_of(model);

    std::int64_t opset = 0;
    for (const auto& o : proto.opset_import()) {
        if (o.domain().empty() || o.domain() == "ai.onnx") {
            opset = o.version();
        }
    }
    if (opset < detail::onnx_oldest_opset || opset > detail::onnx_newest_opset) {
        throw io_error(where + ": operator set " + std::to_string(opset) +
                       "; load_onnx reads opsets 11 to 17 (export with opset_version 11 to 17)");
    }
    for (const auto& p : proto.metadata_props()) {
        if (p.key() == detail::onnx_architecture_key && options.check_architecture) {
            const auto recorded = detail::architecture_from_json(p.value(), where);
            if (const auto d = recorded.first_difference(architecture, "the file", "the model")) {
                throw io_error(where + ": the file holds another model: " + *d);
            }
        }
    }

    const auto& graph = proto.graph();
    std::set<std::string> initializers;
    for (const auto& t : graph.initializer()) {
        initializers.insert(t.name());
    }
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& i : graph.input()) {
        if (initializers.count(i.name()) == 0) { // old exporters list weights as inputs too
            if (input != nullptr) {
                throw io_error(where + ": the graph has several inputs; an xtnn model has one");
            }
            input = &i;
        }
    }
    if (input == nullptr) {
        throw io_error(where + ": the graph has no input");
    }
    if (input->type().has_tensor_type()) {
        const auto& tensor = input->type().tensor_type();
        const int element =
            std::same_as<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE;
        if (tensor.elem_type() != element) {
            throw io_error(detail::mismatch_message(
                where + ": input '" + input->name() + "'", "element type mismatch",
                std::same_as<T, float> ? "float" : "double",
                "ONNX type " + std::to_string(tensor.elem_type())));
        }
        if (tensor.has_shape()) {
            const auto& dims = tensor.shape().dim();
            if (dims.size() != static_cast<int>(Model::input_rank)) {
                throw io_error(detail::mismatch_message(
                    where + ": input '" + input->name() + "'", "rank mismatch",
                    std::to_string(Model::input_rank), std::to_string(dims.size())));
            }
            shape<Model::input_rank> s{};
            bool fixed = true;
            for (int i = 1; i < dims.size(); ++i) {
                fixed = fixed && dims[i].has_dim_value() && dims[i].dim_value() > 0;
                s[static_cast<std::size_t>(i)] =
                    fixed ? static_cast<std::size_t>(dims[i].dim_value()) : 0;
            }
            s[0] = 1;
            if (fixed) {
                try {
                    (void)model.output_shape(s);
                } catch (const shape_error& e) {
                    throw io_error(where +
                                   ": the model rejects the graph's input shape: " + e.what());
                }
            }
        }
    }

    onnx_reader<T> reader(graph, where, opset);
    std::size_t rank = Model::input_rank;
    const std::string y = reader.match(model, onnx_place{}, input->name(), rank);
    reader.finish(y);
}

/// The architecture an ONNX file written by save_onnx() records in its metadata (see
/// read_architecture() for weight files), read without a model and without parsing the graph
/// or its weights; `std::nullopt` for a file from another exporter.
/// @throws io_error naming the file for a missing, truncated or corrupt file, or a damaged
/// record.
/// @ingroup onnx
inline std::optional<model_architecture> read_onnx_architecture(const std::filesystem::path& path) {
    const std::string where = "read_onnx_architecture: '" + path.string() + "'";
    for (const auto& [key, value] : detail::read_onnx_metadata(path, where)) {
        if (key == detail::onnx_architecture_key) {
            return detail::architecture_from_json(value, where);
        }
    }
    return std::nullopt;
}

} // namespace xtnn
