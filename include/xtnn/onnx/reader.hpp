/// @file
/// onnx_reader: the cursor over an ONNX graph that the forms match a model's layers against:
/// which nodes read a tensor, their attributes, the graph's constants, and the weights staged
/// until the whole graph checked out.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <onnx/onnx_pb.h>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// A constant of an ONNX graph (an initializer or a Constant node's value) as numbers.
/// @ingroup onnx
struct onnx_constant {
    std::vector<std::size_t> shape; ///< Its dimensions.
    std::vector<double> values;     ///< Its values, row-major.
};

/// Reads an ONNX graph against a model for load_onnx(): each layer's form finds the nodes
/// that read its input, checks them and stages its weights; finish() checks that every node
/// was used and copies the staged weights into the model, so a failed load changes nothing.
///
/// Before any form looks, nodes that compute nothing are seen through: Identity (PyTorch
/// feeds repeated initializers through them), Dropout at inference, and a Pad of zero
/// amounts (PyTorch writes one before AveragePool); a tensor they output is their input.
/// @tparam T the model's scalar type.
/// @ingroup onnx
template <class T>
class onnx_reader {
  public:
    /// A cursor over `graph` of operator set `opset`; `where` ("load_onnx: 'file'") begins every
    /// message.
    onnx_reader(const onnx::GraphProto& graph, std::string where, std::int64_t opset)
        : graph_(graph), where_(std::move(where)), opset_(opset) {
        for (const auto& t : graph_.initializer()) {
            tensors_[t.name()] = &t;
        }
        inputs_.resize(static_cast<std::size_t>(graph_.node_size()));
        for (int i = 0; i < graph_.node_size(); ++i) {
            const auto& n = graph_.node(i);
            auto& in = inputs_[static_cast<std::size_t>(i)];
            for (const auto& name : n.input()) {
                in.push_back(resolve(name));
            }
            if (n.op_type() == "Constant") {
                consumed_.insert(i);
                const auto* value = detail::onnx_attribute(n, "value");
                if (n.output_size() == 1 && value != nullptr && value->has_t()) {
                    tensors_[n.output(0)] = &value->t();
                }
            } else if (passes_through(i)) {
                consumed_.insert(i);
                aliases_[n.output(0)] = in[0];
                continue;
            }
            for (const auto& name : in) {
                auto& list = readers_[name];
                if (list.empty() || list.back() != i) {
                    list.push_back(i);
                }
            }
        }
    }

    /// Matches `layer` (at `at`) to the nodes reading tensor `x` of rank `rank`, through its
    /// form; returns the tensor it outputs and updates `rank`.
    template <class L>
    std::string match(L& layer, const onnx_place& at, const std::string& x, std::size_t& rank) {
        if constexpr (has_onnx_form<L>) {
            return onnx_form<L>::match(*this, layer, at, x, rank);
        } else {
            static_assert(detail::onnx_form_required<L>::value);
            return x;
        }
    }

    /// Checks that every node is part of a layer and that `y` is the graph's output; then
    /// copies the staged values into the model.
    /// @throws io_error naming the first unused node, or the output.
    void finish(const std::string& y) {
        for (int i = 0; i < graph_.node_size(); ++i) {
            if (consumed_.count(i) == 0) {
                throw io_error(where_ + ": node " + describe_node(i) +
                               " is not part of the model's layers (the model ends before it, "
                               "or it is an operation xtnn does not have)");
            }
        }
        if (graph_.output_size() != 1 || resolve(graph_.output(0).name()) != y) {
            throw io_error(where_ + ": the model's last layer gives '" + y +
                           "', but the graph's output is " +
                           (graph_.output_size() == 0 ? std::string("missing")
                                                      : "'" + graph_.output(0).name() + "'") +
                           (graph_.output_size() > 1 ? " (of several outputs)" : ""));
        }
        for (auto& [name, s] : staged_) {
            std::copy(s.values.begin(), s.values.end(), s.to.begin());
        }
    }

    /// The operator set of the file.
    std::int64_t opset() const { return opset_; }

    // -- nodes --------------------------------------------------------------------------------

    /// Node `i` of the graph.
    const onnx::NodeProto& node(int i) const { return graph_.node(i); }
    /// The inputs of node `i`, each seen through nodes that compute nothing ("" for an omitted
    /// optional input).
    const std::vector<std::string>& inputs(int i) const {
        return inputs_[static_cast<std::size_t>(i)];
    }
    /// Input `k` of node `i`, or "" if it has fewer.
    std::string input(int i, int k) const {
        const auto& in = inputs(i);
        return k < static_cast<int>(in.size()) ? in[static_cast<std::size_t>(k)] : std::string();
    }

    /// "'name' (Op)": how messages name node `i`.
    std::string describe_node(int i) const {
        const auto& n = graph_.node(i);
        return "'" +
               (n.name().empty() ? n.output_size() > 0 ? n.output(0) : std::string("?")
                                 : n.name()) +
               "' (" + n.op_type() + ")";
    }

    /// The unused node of one of `ops` reading `x` as its first input; with several, the one
    /// whose weight (input 1) is named `weight`, then the one of shape `weight_shape`; -1 if
    /// none.
    int consumer(const std::string& x, std::initializer_list<std::string_view> ops,
                 const std::string& weight = {},
                 const std::vector<std::size_t>* weight_shape = nullptr) const {
        std::vector<int> candidates;
        for (const int i : readers(x)) {
            if (consumed_.count(i) == 0 && input(i, 0) == x &&
                std::find(ops.begin(), ops.end(), graph_.node(i).op_type()) != ops.end()) {
                candidates.push_back(i);
            }
        }
        if (candidates.size() > 1 && !weight.empty()) {
            for (const int i : candidates) {
                if (input(i, 1) == weight) {
                    return i;
                }
            }
            for (const int i : candidates) {
                if (weight_shape != nullptr && is_constant(input(i, 1)) &&
                    shape_of(input(i, 1)) == *weight_shape) {
                    return i;
                }
            }
        }
        return candidates.empty() ? -1 : candidates.front();
    }

    /// consumer(), or an io_error naming `layer`, what was expected and what reads `x`.
    int require(const std::string& x, std::initializer_list<std::string_view> ops,
                const std::string& layer, const std::string& weight = {},
                const std::vector<std::size_t>* weight_shape = nullptr) const {
        const int n = consumer(x, ops, weight, weight_shape);
        if (n >= 0) {
            return n;
        }
        std::string wanted;
        for (const auto op : ops) {
            wanted += (wanted.empty() ? "" : " or ") + std::string(op);
        }
        std::string found;
        for (const int i : readers(x)) {
            if (consumed_.count(i) == 0) {
                found = "node " + describe_node(i);
                break;
            }
        }
        throw io_error(where_ + ": " + layer + ": expected a " + wanted + " node reading '" + x +
                       "'; " + (found.empty() ? "no remaining node reads it" : "found " + found));
    }

    /// The unused node of `op` whose two inputs are `a` and `b` (in either order), or -1.
    int binary(const std::string& op, const std::string& a, const std::string& b) const {
        for (const int i : readers(a)) {
            const auto& in = inputs(i);
            if (consumed_.count(i) == 0 && graph_.node(i).op_type() == op && in.size() == 2 &&
                ((in[0] == a && in[1] == b) || (in[0] == b && in[1] == a))) {
                return i;
            }
        }
        return -1;
    }

    /// Whether node `i` is part of a layer already.
    bool used(int i) const { return consumed_.count(i) != 0; }

    /// The nodes reading tensor `x`, in graph order.
    const std::vector<int>& readers(const std::string& x) const {
        static const std::vector<int> none;
        const auto found = readers_.find(x);
        return found == readers_.end() ? none : found->second;
    }

    /// Node `i`'s (first) output.
    /// @throws io_error naming the node if it has none (a damaged or hostile file).
    std::string output(int i) const {
        const auto& n = graph_.node(i);
        if (n.output_size() < 1) {
            throw io_error(where_ + ": node " + describe_node(i) + " has no output");
        }
        return n.output(0);
    }

    /// Marks node `i` used; returns its output (as output()).
    std::string take(int i) {
        consumed_.insert(i);
        return output(i);
    }

    /// "<where>: node 'n' (Op): <layer>: <what> mismatch; expected X, got Y".
    io_error mismatch(int node, const std::string& layer, const std::string& what,
                      const std::string& expected, const std::string& got) const {
        return io_error(
            detail::mismatch_message(where_ + ": node " + describe_node(node) + ": " + layer,
                                     what + " mismatch", expected, got));
    }
    /// "<where>: <what>".
    io_error error(const std::string& what) const { return io_error(where_ + ": " + what); }

    // -- attributes ---------------------------------------------------------------------------

    /// An integer attribute of node `node`, or `fallback` if it has none.
    std::int64_t int_attribute(int node, const char* name, std::int64_t fallback) const {
        const auto* a = detail::onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::INT) {
            throw error("node " + describe_node(node) + ": attribute '" + name +
                        "' is not an integer");
        }
        return a->i();
    }
    /// A float attribute, or `fallback`.
    double float_attribute(int node, const char* name, double fallback) const {
        const auto* a = detail::onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::FLOAT) {
            throw error("node " + describe_node(node) + ": attribute '" + name +
                        "' is not a float");
        }
        return a->f();
    }
    /// A list-of-integers attribute, or `fallback`.
    std::vector<std::int64_t> ints_attribute(int node, const char* name,
                                             std::vector<std::int64_t> fallback) const {
        const auto* a = detail::onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::INTS) {
            throw error("node " + describe_node(node) + ": attribute '" + name +
                        "' is not a list of integers");
        }
        return {a->ints().begin(), a->ints().end()};
    }
    /// Refuses auto_pad other than NOTSET or VALID (xtnn's layers have explicit pads).
    void require_no_auto_pad(int node, const std::string& layer) const {
        const auto* a = detail::onnx_attribute(graph_.node(node), "auto_pad");
        if (a != nullptr && a->s() != "NOTSET" && a->s() != "VALID") {
            throw mismatch(node, layer, "auto_pad", "NOTSET (explicit pads)", a->s());
        }
    }
    /// Requires attribute `name` (or `fallback` when absent) to be `expected`.
    void require_ints(int node, const std::string& layer, const char* name,
                      const std::vector<std::int64_t>& fallback,
                      const std::vector<std::int64_t>& expected) const {
        const auto got = ints_attribute(node, name, fallback);
        if (got != expected) {
            throw mismatch(node, layer, name, layer_description::value_text(expected),
                           layer_description::value_text(got));
        }
    }
    /// Requires `got` to be `expected` to float precision (ONNX stores floats).
    void require_close(int node, const std::string& layer, const char* name, double got,
                       double expected) const {
        if (std::abs(got - expected) > 1e-6 * std::max(1.0, std::abs(expected))) {
            throw mismatch(node, layer, name, layer_description::value_text(expected),
                           layer_description::value_text(got));
        }
    }

    // -- constants ----------------------------------------------------------------------------

    /// Whether `name` is a constant of the graph.
    bool is_constant(const std::string& name) const { return tensors_.count(name) != 0; }

    /// The dimensions of constant `name`.
    std::vector<std::size_t> shape_of(const std::string& name) const {
        std::vector<std::size_t> shape;
        for (const auto d : tensors_.at(name)->dims()) {
            shape.push_back(d < 0 ? std::numeric_limits<std::size_t>::max()
                                  : static_cast<std::size_t>(d));
        }
        return shape;
    }

    /// The values of constant `name` (float, double or int64); `context` names the reader.
    /// @throws io_error if it is not a constant, or its data do not fit its shape.
    onnx_constant constant(const std::string& name, const std::string& context) const {
        const auto found = tensors_.find(name);
        if (found == tensors_.end()) {
            throw error(context + ": '" + name +
                        "' is not a constant of the graph (an initializer or a Constant)");
        }
        const auto& t = *found->second;
        const std::string here = where_ + ": " + context + ": tensor '" + name + "'";
        if (t.data_location() == onnx::TensorProto::EXTERNAL) {
            throw io_error(here + ": data in an external file is not supported");
        }
        onnx_constant c;
        std::size_t count = 1;
        for (const auto d : t.dims()) {
            if (d < 0 || (d > 0 && count > (std::size_t(1) << 40) / static_cast<std::size_t>(d))) {
                throw io_error(here + ": impossible dimension " + std::to_string(d));
            }
            c.shape.push_back(static_cast<std::size_t>(d));
            count *= static_cast<std::size_t>(d);
        }
        const auto read = [&]<class V>(const auto& typed) {
            if (!t.raw_data().empty()) {
                if (t.raw_data().size() != count * sizeof(V)) {
                    throw io_error(here + ": " + std::to_string(t.raw_data().size()) +
                                   " bytes of data for " + std::to_string(count) + " values");
                }
                c.values.resize(count);
                for (std::size_t i = 0; i < count; ++i) {
                    V v;
                    std::memcpy(&v, t.raw_data().data() + i * sizeof(V), sizeof(V));
                    c.values[i] = static_cast<double>(v);
                }
            } else {
                if (static_cast<std::size_t>(typed.size()) != count) {
                    throw io_error(here + ": " + std::to_string(typed.size()) +
                                   " values for shape " + format_shape(c.shape));
                }
                c.values.assign(typed.begin(), typed.end());
            }
        };
        switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            read.template operator()<float>(t.float_data());
            break;
        case onnx::TensorProto::DOUBLE:
            read.template operator()<double>(t.double_data());
            break;
        case onnx::TensorProto::INT64:
            read.template operator()<std::int64_t>(t.int64_data());
            break;
        default:
            throw io_error(here + ": element type " + std::to_string(t.data_type()) +
                           " (ONNX's code); expected float, double or int64");
        }
        return c;
    }

    /// Whether `name` is a constant holding one number near `expected` (a formula's constant).
    bool is_scalar(const std::string& name, double expected) const {
        if (!is_constant(name)) {
            return false;
        }
        const auto c = constant(name, "constant");
        return c.values.size() == 1 &&
               std::abs(c.values[0] - expected) <= 1e-6 * std::max(1.0, std::abs(expected));
    }

    // -- staging ------------------------------------------------------------------------------

    /// Stages `c` (of node `node`; transposed from (in, out) when `transpose`) for array `name`
    /// of `layer`, to be copied by finish().
    /// @throws io_error naming the layer if it has no such array or the shapes differ.
    template <class L>
    void stage(L& layer, const onnx_place& at, std::string_view name, const onnx_constant& c,
               int node, bool transpose = false) {
        const std::string full = at.prefix + std::string(name);
        const auto array = array_of(layer, at, name);
        const auto& expected = array.shape;
        std::vector<std::size_t> shape = c.shape;
        if (transpose && shape.size() == 2) {
            std::swap(shape[0], shape[1]);
        }
        // PyTorch writes a bias as (1, out) now and then
        if (expected.size() == 1 && shape.size() == 2 && shape[0] == 1) {
            shape.erase(shape.begin());
        }
        if (shape != expected) {
            throw mismatch(node, onnx_layer_text(layer, at), "shape of '" + full + "'",
                           format_shape(expected),
                           format_shape(c.shape) + (transpose ? " (transposed)" : ""));
        }
        std::vector<T> values(c.values.size());
        if (transpose) {
            const std::size_t rows = c.shape[0], columns = c.shape[1]; // (in, out)
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < columns; ++j) {
                    values[j * rows + i] = static_cast<T>(c.values[i * columns + j]);
                }
            }
        } else {
            std::transform(c.values.begin(), c.values.end(), values.begin(),
                           [](double v) { return static_cast<T>(v); });
        }
        staged_[full] = {array.values, std::move(values)};
    }
    /// Stages `value` for every element of array `name` of `layer`.
    template <class L>
    void stage_filled(L& layer, const onnx_place& at, std::string_view name, T value) {
        const auto array = array_of(layer, at, name);
        staged_[at.prefix + std::string(name)] = {array.values,
                                                  std::vector<T>(array.values.size(), value)};
    }
    /// The shape of array `name` of `layer`.
    template <class L>
    std::vector<std::size_t> array_shape(L& layer, const onnx_place& at, std::string_view name) {
        return array_of(layer, at, name).shape;
    }

    /// What matching has done so far (the nodes used, the weights staged), to try another way
    /// from here and come back (restore()).
    /// Only the names are kept, not the values: a try stages each array at most once, so
    /// going back drops the arrays staged since.
    struct snapshot {
        std::set<int> consumed;       ///< The nodes used.
        std::set<std::string> staged; ///< The names of the weights staged.
    };
    /// The state now.
    snapshot save() const {
        snapshot s{consumed_, {}};
        for (const auto& entry : staged_) {
            s.staged.insert(entry.first);
        }
        return s;
    }
    /// Back to `s`.
    void restore(const snapshot& s) {
        consumed_ = s.consumed;
        std::erase_if(staged_, [&](const auto& entry) { return s.staged.count(entry.first) == 0; });
    }

  private:
    struct staged_array {
        std::span<T> to;
        std::vector<T> values;
    };

    template <class L>
    detail::onnx_array<T> array_of(L& layer, const onnx_place& at, std::string_view name) {
        auto array = detail::layer_array<T>(layer, name);
        if (!array) {
            throw error(onnx_layer_text(layer, at) + ": the model has no array '" + at.prefix +
                        std::string(name) + "'");
        }
        return *array;
    }

    // A tensor seen through the nodes that compute nothing.
    std::string resolve(const std::string& name) const {
        std::string r = name;
        for (auto found = aliases_.find(r); found != aliases_.end(); found = aliases_.find(r)) {
            r = found->second;
        }
        return r;
    }

    // Whether node i computes nothing: Identity, Dropout at inference, a Pad of zero amounts.
    bool passes_through(int i) const {
        const auto& n = graph_.node(i);
        const auto& in = inputs_[static_cast<std::size_t>(i)];
        if (in.empty() || in[0].empty() || n.output_size() < 1) {
            return false;
        }
        const std::string& op = n.op_type();
        if (op == "Identity") {
            return n.output_size() == 1;
        }
        if (op == "Dropout") { // the mask unused; training_mode absent or false
            const bool mask = n.output_size() > 1 && !n.output(1).empty();
            const bool training = in.size() > 2 && !in[2].empty() && !is_scalar(in[2], 0.0);
            return !mask && !training && int_attribute(i, "is_test", 1) != 0;
        }
        if (op == "Pad") {
            const auto* mode = detail::onnx_attribute(n, "mode");
            if ((mode != nullptr && mode->s() != "constant") || in.size() < 2 ||
                !is_constant(in[1])) {
                return false;
            }
            const auto amounts = constant(in[1], "node " + describe_node(i)).values;
            return std::all_of(amounts.begin(), amounts.end(), [](double v) { return v == 0; });
        }
        return false;
    }

    const onnx::GraphProto& graph_;
    std::string where_;
    std::int64_t opset_;
    std::map<std::string, const onnx::TensorProto*> tensors_;
    std::map<std::string, std::string> aliases_;      // output -> input of a node that passes
    std::vector<std::vector<std::string>> inputs_;    // each node's inputs, resolved
    std::map<std::string, std::vector<int>> readers_; // tensor -> the nodes reading it
    std::set<int> consumed_;
    std::map<std::string, staged_array> staged_;
};

} // namespace xtnn
