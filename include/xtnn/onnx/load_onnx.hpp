/// @file
/// load_onnx: an ONNX file's weights into a typed xtnn model, node by node checked against the
/// model's layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
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
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/files.hpp>
#include <xtnn/io/architecture.hpp>
#include <xtnn/onnx/graph.hpp>

namespace xtnn {

/// Options of load_onnx().
/// @ingroup onnx
struct onnx_load_options {
    /// Compare the model with the architecture an xtnn-written file records in its metadata
    /// (as load_weights() does); files from other exporters have none.
    bool check_architecture = true;
};

namespace detail {

/// A constant of the graph (an initializer or a Constant node's value) as numbers.
struct onnx_constant {
    std::vector<std::size_t> shape;
    std::vector<double> values;
};

/// Reads ONNX files' graphs against a model's description; stages every value, so that a
/// failed load changes nothing.
template <class T>
class onnx_reader {
  public:
    onnx_reader(const onnx::GraphProto& graph, std::map<std::string, onnx_array<T>> state,
                std::string where)
        : graph_(graph), state_(std::move(state)), where_(std::move(where)) {
        for (const auto& t : graph_.initializer()) {
            tensors_[t.name()] = &t;
        }
        for (int i = 0; i < graph_.node_size(); ++i) {
            const auto& n = graph_.node(i);
            for (int k = 0; k < n.input_size(); ++k) {
                auto& list = readers_[n.input(k)];
                if (list.empty() || list.back() != i) {
                    list.push_back(i);
                }
            }
            if (n.op_type() == "Constant") {
                consumed_.insert(i);
                const auto* value = onnx_attribute(n, "value");
                if (n.output_size() == 1 && value != nullptr && value->has_t()) {
                    tensors_[n.output(0)] = &value->t();
                }
            }
        }
    }

    /// Matches layer `d` (state-dict prefix `prefix`, shown as `path`) to the nodes reading
    /// tensor `x`, of rank `rank`; returns the tensor it outputs and updates `rank`.
    std::string match(const layer_description& d, const std::string& prefix, const std::string& x,
                      std::size_t& rank, const std::string& path) {
        const std::string& k = d.kind;
        const std::string layer = "layer " + path + " (" + d.to_string() + ")";
        if (k != "batch_norm1d" && k != "batch_norm2d" && k != "sequential") {
            after_conv_ = false;
            require_no_pending_bias();
        }
        if (k == "sequential") {
            std::string y = x;
            for (std::size_t i = 0; i < d.layers.size(); ++i) {
                y = match(d.layers[i], child_prefix(d, prefix, i), y, rank,
                          (path.empty() ? "" : path + ".") + std::to_string(i));
            }
            return y;
        }
        if (k == "residual") {
            if (d.layers.size() < 2) {
                return residual(d, prefix, x, rank, path, layer, false);
            }
            // Both paths read x, and their first nodes may look alike (two Gemms of one
            // shape): the block first, and if that fails, the projection first.
            const match_state saved = state_of();
            try {
                return residual(d, prefix, x, rank, path, layer, false);
            } catch (const io_error&) {
                restore(saved);
                try {
                    return residual(d, prefix, x, rank, path, layer, true);
                } catch (const io_error&) {
                    restore(saved);
                }
                return residual(d, prefix, x, rank, path, layer, false); // the first error
            }
        }
        if (k == "random_affine") { // augmentation: nothing at inference
            return x;
        }
        if (k == "dropout") { // nothing, an Identity or a Dropout (inference)
            if (const int n = consumer(x, {"Dropout", "Identity"}); n >= 0) {
                return take(n);
            }
            return x;
        }
        if (k == "dense") {
            return dense(d, prefix, x, layer);
        }
        if (k == "conv2d") {
            return conv(d, prefix, x, layer);
        }
        if (k == "batch_norm1d" || k == "batch_norm2d") {
            return batch_norm(d, prefix, x, layer);
        }
        if (k == "max_pool2d" || k == "avg_pool2d") {
            return pool(d, prefix, x, layer);
        }
        if (k == "global_avg_pool2d") {
            const int n = require(x, {"GlobalAveragePool"}, layer);
            rank = 4;
            return flatten(take(n), rank, layer);
        }
        if (k == "flatten") {
            return flatten(x, rank, layer);
        }
        if (k == "softmax" || k == "log_softmax") {
            const int n = require(x, {k == "softmax" ? "Softmax" : "LogSoftmax"}, layer);
            const std::int64_t axis = int_attribute(n, "axis", opset_ >= 13 ? -1 : 1);
            if (axis != -1 && axis != static_cast<std::int64_t>(rank) - 1) {
                throw mismatch(n, layer, "axis", "-1 (the last)", std::to_string(axis));
            }
            return take(n);
        }
        return activation(d, x, layer);
    }

    /// Checks that every node is part of a layer and that `y` is the graph's output; then
    /// copies the staged values into the model.
    void finish(const std::string& y) {
        require_no_pending_bias();
        for (int i = 0; i < graph_.node_size(); ++i) {
            if (consumed_.count(i) == 0) {
                throw io_error(where_ + ": node " + describe_node(i) +
                               " is not part of the model's layers (the model ends before it, "
                               "or it is an operation xtnn does not have)");
            }
        }
        if (graph_.output_size() != 1 || graph_.output(0).name() != y) {
            throw io_error(where_ + ": the model's last layer gives '" + y +
                           "', but the graph's output is " +
                           (graph_.output_size() == 0 ? std::string("missing")
                                                      : "'" + graph_.output(0).name() + "'") +
                           (graph_.output_size() > 1 ? " (of several outputs)" : ""));
        }
        for (auto& [name, values] : staged_) {
            auto& to = state_.at(name).values;
            std::copy(values.begin(), values.end(), to.begin());
        }
    }

    void set_opset(std::int64_t opset) { opset_ = opset; }

  private:
    // What matching changes, for a second try.
    struct match_state {
        std::set<int> consumed;
        std::map<std::string, std::vector<T>> staged;
        bool after_conv;
        std::optional<onnx_constant> pending_bias;
        int pending_node;
        std::string conv_layer;
    };
    match_state state_of() const {
        return {consumed_, staged_, after_conv_, pending_bias_, pending_node_, conv_layer_};
    }
    void restore(const match_state& s) {
        consumed_ = s.consumed;
        staged_ = s.staged;
        after_conv_ = s.after_conv;
        pending_bias_ = s.pending_bias;
        pending_node_ = s.pending_node;
        conv_layer_ = s.conv_layer;
    }

    // y = shortcut + f(x): the block's nodes, the projection's (if any), then an Add.
    std::string residual(const layer_description& d, const std::string& prefix,
                         const std::string& x, std::size_t& rank, const std::string& path,
                         const std::string& layer, bool projection_first) {
        std::size_t r = rank, s = rank;
        std::string f, shortcut = x;
        const auto block = [&] {
            f = match(d.layers.at(0), child_prefix(d, prefix, 0), x, r, path + ".0");
        };
        const auto project = [&] {
            if (d.layers.size() > 1) {
                shortcut = match(d.layers[1], child_prefix(d, prefix, 1), x, s, path + ".1");
            }
        };
        if (projection_first) {
            project();
            block();
        } else {
            block();
            project();
        }
        rank = r;
        const int add = find_add(shortcut, f);
        if (add < 0) {
            throw io_error(where_ + ": " + layer + ": expected an Add node of '" + shortcut +
                           "' and '" + f + "' (x + f(x)); none in the graph");
        }
        return take(add);
    }

    // A Conv with a bias for a conv2d without one, and no batch norm after it to take it.
    void require_no_pending_bias() const {
        if (pending_bias_) {
            throw mismatch(pending_node_, conv_layer_, "bias", "no bias", "a bias");
        }
    }

    // -- nodes --------------------------------------------------------------------------------

    std::string describe_node(int i) const {
        const auto& n = graph_.node(i);
        return "'" +
               (n.name().empty() ? n.output_size() > 0 ? n.output(0) : std::string("?")
                                 : n.name()) +
               "' (" + n.op_type() + ")";
    }

    // The unconsumed node of one of `ops` reading `x` as its first input; with several, the
    // one whose weight (input 1) has the expected name, then the expected shape.
    int consumer(const std::string& x, std::initializer_list<std::string_view> ops,
                 const std::string& weight = {},
                 const std::vector<std::size_t>* weight_shape = nullptr) const {
        std::vector<int> candidates;
        for (const int i : readers(x)) {
            const auto& n = graph_.node(i);
            if (consumed_.count(i) == 0 && n.input_size() > 0 && n.input(0) == x &&
                std::find(ops.begin(), ops.end(), n.op_type()) != ops.end()) {
                candidates.push_back(i);
            }
        }
        if (candidates.size() > 1 && !weight.empty()) {
            for (const int i : candidates) {
                if (graph_.node(i).input_size() > 1 && graph_.node(i).input(1) == weight) {
                    return i;
                }
            }
            for (const int i : candidates) {
                const auto& n = graph_.node(i);
                if (weight_shape != nullptr && n.input_size() > 1 &&
                    tensors_.count(n.input(1)) != 0 && shape_of(n.input(1)) == *weight_shape) {
                    return i;
                }
            }
        }
        return candidates.empty() ? -1 : candidates.front();
    }

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

    int find_add(const std::string& a, const std::string& b) const {
        for (const int i : readers(a)) {
            const auto& n = graph_.node(i);
            if (consumed_.count(i) == 0 && n.op_type() == "Add" && n.input_size() == 2 &&
                ((n.input(0) == a && n.input(1) == b) || (n.input(0) == b && n.input(1) == a))) {
                return i;
            }
        }
        return -1;
    }

    // The nodes reading tensor `x`, in graph order.
    const std::vector<int>& readers(const std::string& x) const {
        static const std::vector<int> none;
        const auto found = readers_.find(x);
        return found == readers_.end() ? none : found->second;
    }

    std::string take(int i) {
        consumed_.insert(i);
        const auto& n = graph_.node(i);
        if (n.output_size() < 1) {
            throw io_error(where_ + ": node " + describe_node(i) + " has no output");
        }
        return n.output(0);
    }

    io_error mismatch(int node, const std::string& layer, const std::string& what,
                      const std::string& expected, const std::string& got) const {
        return io_error(mismatch_message(where_ + ": node " + describe_node(node) + ": " + layer,
                                         what + " mismatch", expected, got));
    }

    // -- attributes ---------------------------------------------------------------------------

    std::int64_t int_attribute(int node, const char* name, std::int64_t fallback) const {
        const auto* a = onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::INT) {
            throw io_error(where_ + ": node " + describe_node(node) + ": attribute '" + name +
                           "' is not an integer");
        }
        return a->i();
    }
    double float_attribute(int node, const char* name, double fallback) const {
        const auto* a = onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::FLOAT) {
            throw io_error(where_ + ": node " + describe_node(node) + ": attribute '" + name +
                           "' is not a float");
        }
        return a->f();
    }
    std::vector<std::int64_t> ints_attribute(int node, const char* name,
                                             std::vector<std::int64_t> fallback) const {
        const auto* a = onnx_attribute(graph_.node(node), name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != onnx::AttributeProto::INTS) {
            throw io_error(where_ + ": node " + describe_node(node) + ": attribute '" + name +
                           "' is not a list of integers");
        }
        return {a->ints().begin(), a->ints().end()};
    }
    void require_no_auto_pad(int node, const std::string& layer) const {
        const auto* a = onnx_attribute(graph_.node(node), "auto_pad");
        if (a != nullptr && a->s() != "NOTSET" && a->s() != "VALID") {
            throw mismatch(node, layer, "auto_pad", "NOTSET (explicit pads)", a->s());
        }
    }
    void require_ints(int node, const std::string& layer, const char* name,
                      const std::vector<std::int64_t>& fallback,
                      const std::vector<std::int64_t>& expected) const {
        const auto got = ints_attribute(node, name, fallback);
        if (got != expected) {
            throw mismatch(node, layer, name, list_text(expected), list_text(got));
        }
    }
    static std::string list_text(const std::vector<std::int64_t>& v) {
        return layer_description::value_text(v);
    }
    void require_close(int node, const std::string& layer, const char* name, double got,
                       double expected) const {
        // ONNX stores floats: equal to float precision
        if (std::abs(got - expected) > 1e-6 * std::max(1.0, std::abs(expected))) {
            throw mismatch(node, layer, name, layer_description::value_text(expected),
                           layer_description::value_text(got));
        }
    }

    // -- constants ----------------------------------------------------------------------------

    std::vector<std::size_t> shape_of(const std::string& name) const {
        std::vector<std::size_t> shape;
        for (const auto d : tensors_.at(name)->dims()) {
            shape.push_back(d < 0 ? std::numeric_limits<std::size_t>::max()
                                  : static_cast<std::size_t>(d));
        }
        return shape;
    }

    onnx_constant constant(const std::string& name, const std::string& context) const {
        const auto found = tensors_.find(name);
        if (found == tensors_.end()) {
            throw io_error(where_ + ": " + context + ": '" + name +
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

    // A single number near `expected` (a formula's constant).
    bool is_scalar(const std::string& name, double expected) const {
        if (tensors_.count(name) == 0) {
            return false;
        }
        const auto c = constant(name, "constant");
        return c.values.size() == 1 &&
               std::abs(c.values[0] - expected) <= 1e-6 * std::max(1.0, std::abs(expected));
    }

    // Stages `values` (of shape `shape`, transposed from (in, out) when `transpose`) for the
    // model's array `name`.
    void stage(const std::string& name, const onnx_constant& c, int node, const std::string& layer,
               bool transpose = false) {
        const auto found = state_.find(name);
        if (found == state_.end()) {
            throw io_error(where_ + ": " + layer + ": the model has no array '" + name + "'");
        }
        const auto& expected = found->second.shape;
        std::vector<std::size_t> shape = c.shape;
        if (transpose && shape.size() == 2) {
            std::swap(shape[0], shape[1]);
        }
        // PyTorch writes a bias as (1, out) now and then
        if (expected.size() == 1 && shape.size() == 2 && shape[0] == 1) {
            shape.erase(shape.begin());
        }
        if (shape != expected) {
            throw mismatch(node, layer, "shape of '" + name + "'", format_shape(expected),
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
        staged_[name] = std::move(values);
    }
    void stage_filled(const std::string& name, T value) {
        staged_[name] = std::vector<T>(state_.at(name).values.size(), value);
    }

    // -- layers -------------------------------------------------------------------------------

    std::string dense(const layer_description& d, const std::string& prefix, const std::string& x,
                      const std::string& layer) {
        const std::string w = prefix + "weight";
        const auto* expected = state_.count(w) != 0 ? &state_.at(w).shape : nullptr;
        const int n = require(x, {"Gemm", "MatMul"}, layer, w, expected);
        const auto& node = graph_.node(n);
        const bool gemm = node.op_type() == "Gemm";
        if (node.input_size() < 2) {
            throw io_error(where_ + ": node " + describe_node(n) + " has no weight input");
        }
        bool transpose = !gemm;
        if (gemm) {
            if (int_attribute(n, "transA", 0) != 0) {
                throw mismatch(n, layer, "transA", "0", "1");
            }
            transpose = int_attribute(n, "transB", 0) == 0;
            require_close(n, layer, "alpha", float_attribute(n, "alpha", 1.0), 1.0);
        }
        stage(w, constant(node.input(1), layer), n, layer, transpose);
        std::string y = take(n);
        std::optional<std::string> bias;
        if (gemm && node.input_size() > 2 && !node.input(2).empty()) {
            require_close(n, layer, "beta", float_attribute(n, "beta", 1.0), 1.0);
            bias = node.input(2);
        } else if (!gemm) { // MatMul, then Add of the bias
            for (const int i : readers(y)) {
                const auto& a = graph_.node(i);
                if (consumed_.count(i) == 0 && a.op_type() == "Add" && a.input_size() == 2 &&
                    (a.input(0) == y || a.input(1) == y)) {
                    const std::string other = a.input(0) == y ? a.input(1) : a.input(0);
                    if (tensors_.count(other) != 0) {
                        bias = other;
                        y = take(i);
                    }
                    break;
                }
            }
        }
        if (bias.has_value() != option_flag(d, "bias")) {
            throw mismatch(n, layer, "bias", option_flag(d, "bias") ? "a bias" : "no bias",
                           bias ? "a bias" : "none");
        }
        if (bias) {
            stage(prefix + "bias", constant(*bias, layer), n, layer);
        }
        return y;
    }

    std::string conv(const layer_description& d, const std::string& prefix, const std::string& x,
                     const std::string& layer) {
        const std::string w = prefix + "weight";
        const int n = require(x, {"Conv"}, layer, w, &state_.at(w).shape);
        const auto& node = graph_.node(n);
        if (node.input_size() < 2) {
            throw io_error(where_ + ": node " + describe_node(n) + " has no weight input");
        }
        if (int_attribute(n, "group", 1) != 1) {
            throw mismatch(n, layer, "group", "1", std::to_string(int_attribute(n, "group", 1)));
        }
        require_no_auto_pad(n, layer);
        const auto kernel = option_list(d, "kernel_size");
        if (onnx_attribute(node, "kernel_shape") != nullptr) {
            require_ints(n, layer, "kernel_shape", {}, kernel);
        }
        require_ints(n, layer, "strides", {1, 1}, option_list(d, "stride"));
        require_ints(n, layer, "dilations", {1, 1}, option_list(d, "dilation"));
        require_ints(n, layer, "pads", {0, 0, 0, 0}, onnx_pads(d));
        stage(w, constant(node.input(1), layer), n, layer);
        const bool has_bias = node.input_size() > 2 && !node.input(2).empty();
        pending_bias_.reset();
        if (has_bias && option_flag(d, "bias")) {
            stage(prefix + "bias", constant(node.input(2), layer), n, layer);
        } else if (has_bias) { // a batch norm folded into the Conv: its shift goes there
            pending_bias_ = constant(node.input(2), layer);
            pending_node_ = n;
        } else if (option_flag(d, "bias")) {
            throw mismatch(n, layer, "bias", "a bias", "none");
        }
        const std::string y = take(n);
        after_conv_ = true;
        conv_layer_ = layer;
        return y;
    }

    std::string batch_norm(const layer_description& d, const std::string& prefix,
                           const std::string& x, const std::string& layer) {
        const bool folded_here = after_conv_;
        after_conv_ = false;
        const bool affine = option_flag(d, "affine");
        const int n = consumer(x, {"BatchNormalization"});
        if (n < 0 && folded_here) {
            // PyTorch's exporter folds an eval-mode batch norm into the Conv before it: the
            // Conv holds both, and this layer becomes the identity (x - 0) / √(1 - ε + ε).
            const double eps = option_real(d, "eps");
            stage_filled(prefix + "running_mean", T(0));
            stage_filled(prefix + "running_var", static_cast<T>(1.0 - eps));
            if (affine) {
                stage_filled(prefix + "weight", T(1));
                if (pending_bias_) {
                    stage(prefix + "bias", *pending_bias_, pending_node_, conv_layer_);
                } else {
                    stage_filled(prefix + "bias", T(0));
                }
            } else if (pending_bias_) {
                throw io_error(where_ + ": node " + describe_node(pending_node_) + ": " +
                               conv_layer_ +
                               " has no bias and the batch norm after it has no learned shift "
                               "(affine = false), so the Conv's bias has nowhere to go");
            }
            pending_bias_.reset();
            return x;
        }
        require_no_pending_bias();
        if (n < 0) {
            require(x, {"BatchNormalization"}, layer); // throws, naming what is there
        }
        const auto& node = graph_.node(n);
        if (node.input_size() != 5) {
            throw io_error(where_ + ": node " + describe_node(n) + ": expected 5 inputs, got " +
                           std::to_string(node.input_size()));
        }
        if (int_attribute(n, "training_mode", 0) != 0) {
            throw mismatch(n, layer, "training_mode", "0 (inference)", "1");
        }
        require_close(n, layer, "epsilon", float_attribute(n, "epsilon", 1e-5),
                      option_real(d, "eps"));
        const auto scale = constant(node.input(1), layer);
        const auto shift = constant(node.input(2), layer);
        if (affine) {
            stage(prefix + "weight", scale, n, layer);
            stage(prefix + "bias", shift, n, layer);
        } else if (std::any_of(scale.values.begin(), scale.values.end(),
                               [](double v) { return v != 1.0; }) ||
                   std::any_of(shift.values.begin(), shift.values.end(),
                               [](double v) { return v != 0.0; })) {
            throw mismatch(n, layer, "scale and shift", "1 and 0 (affine = false)",
                           "learned values");
        }
        stage(prefix + "running_mean", constant(node.input(3), layer), n, layer);
        stage(prefix + "running_var", constant(node.input(4), layer), n, layer);
        return take(n);
    }

    std::string pool(const layer_description& d, const std::string&, const std::string& x,
                     const std::string& layer) {
        const bool max = d.kind == "max_pool2d";
        std::vector<std::int64_t> pads = onnx_pads(d);
        std::string in = x;
        if (!max && option_flag(d, "count_include_pad") &&
            pads != std::vector<std::int64_t>(4, 0)) {
            // counted zeros as an explicit Pad (PyTorch's and save_onnx's form), or pads
            // with count_include_pad = 1
            if (const int p = consumer(x, {"Pad"}); p >= 0) {
                const auto& node = graph_.node(p);
                const auto* mode = onnx_attribute(node, "mode");
                const auto amounts = node.input_size() > 1 ? constant(node.input(1), layer).values
                                                           : std::vector<double>{};
                const std::vector<double> expected{0, 0, double(pads[0]), double(pads[1]),
                                                   0, 0, double(pads[2]), double(pads[3])};
                const bool zeros =
                    node.input_size() < 3 || node.input(2).empty() || is_scalar(node.input(2), 0.0);
                if ((mode != nullptr && mode->s() != "constant") || amounts != expected || !zeros) {
                    throw io_error(where_ + ": node " + describe_node(p) + ": " + layer +
                                   ": expected a Pad of zeros by (" + std::to_string(pads[0]) +
                                   ", " + std::to_string(pads[1]) + ") around the images");
                }
                in = take(p);
                pads.assign(4, 0);
            }
        }
        const int n = require(in, {max ? "MaxPool" : "AveragePool"}, layer);
        require_no_auto_pad(n, layer);
        require_ints(n, layer, "kernel_shape", {}, option_list(d, "kernel_size"));
        require_ints(n, layer, "strides", {1, 1}, option_list(d, "stride"));
        require_ints(n, layer, "pads", {0, 0, 0, 0}, pads);
        if (int_attribute(n, "ceil_mode", 0) != 0) {
            throw mismatch(n, layer, "ceil_mode", "0", "1");
        }
        if (max) {
            require_ints(n, layer, "dilations", {1, 1}, {1, 1});
        } else if (pads != std::vector<std::int64_t>(4, 0) &&
                   (int_attribute(n, "count_include_pad", 0) != 0) !=
                       option_flag(d, "count_include_pad")) {
            throw mismatch(n, layer, "count_include_pad",
                           option_flag(d, "count_include_pad") ? "1" : "0",
                           option_flag(d, "count_include_pad") ? "0" : "1");
        }
        return take(n);
    }

    // Flatten(axis 1), or a Reshape to (0 or -1, -1) or (-1, k).
    std::string flatten(const std::string& x, std::size_t& rank, const std::string& layer) {
        const int n = require(x, {"Flatten", "Reshape"}, layer);
        const auto& node = graph_.node(n);
        if (node.op_type() == "Flatten") {
            if (int_attribute(n, "axis", 1) != 1) {
                throw mismatch(n, layer, "axis", "1", std::to_string(int_attribute(n, "axis", 1)));
            }
        } else {
            const auto to =
                node.input_size() > 1 ? constant(node.input(1), layer) : onnx_constant{};
            const auto& v = to.values;
            const bool ok = v.size() == 2 &&
                            ((v[1] == -1 && (v[0] == 0 || v[0] == -1)) || (v[0] == -1 && v[1] > 0));
            if (!ok) {
                throw io_error(where_ + ": node " + describe_node(n) + ": " + layer +
                               ": expected a Reshape to (batch, -1); got a shape of " +
                               std::to_string(v.size()) + " values");
            }
        }
        rank = 2;
        return take(n);
    }

    std::string activation(const layer_description& d, const std::string& x,
                           const std::string& layer) {
        static const std::map<std::string, std::string, std::less<>> plain{
            {"relu", "Relu"},
            {"sigmoid", "Sigmoid"},
            {"tanh", "Tanh"},
            {"softplus", "Softplus"},
            {"identity", "Identity"},
            {"leaky_relu", "LeakyRelu"},
            {"elu", "Elu"}};
        const std::string& k = d.kind;
        if (const auto op = plain.find(k); op != plain.end()) {
            const int n = require(x, {op->second}, layer);
            if (k == "leaky_relu") {
                require_close(n, layer, "alpha", float_attribute(n, "alpha", 0.01),
                              option_real(d, "negative_slope"));
            } else if (k == "elu") {
                require_close(n, layer, "alpha", float_attribute(n, "alpha", 1.0),
                              option_real(d, "alpha"));
            }
            return take(n);
        }
        if (k == "gelu") {
            return option_flag(d, "approximate") ? gelu_tanh(x, layer) : gelu_erf(x, layer);
        }
        throw io_error(where_ + ": " + layer +
                       ": load_onnx reads xtnn's own layers; this one has no ONNX form");
    }

    // The next node of `op` reading `y`, with a constant near `c` (or tensor `other`) as its
    // other input.
    std::string step(const std::string& y, const char* op, std::optional<double> c,
                     const std::string& other, const std::string& layer) {
        for (const int i : readers(y)) {
            const auto& n = graph_.node(i);
            if (consumed_.count(i) != 0 || n.op_type() != op) {
                continue;
            }
            const auto& in = n.input();
            const auto reads = [&](const std::string& a, const std::string& b) {
                return in.size() == 2 && ((in[0] == a && in[1] == b) || (in[0] == b && in[1] == a));
            };
            if (c               ? (in.size() == 2 &&
                     ((in[0] == y && is_scalar(in[1], *c)) || (in[1] == y && is_scalar(in[0], *c))))
                : other.empty() ? (in.size() == 1 && in[0] == y)
                                : reads(y, other)) {
                return take(i);
            }
        }
        throw io_error(where_ + ": " + layer + ": expected gelu's formula: a " + op +
                       " node reading '" + y + "'" +
                       (c ? " and the constant " + layer_description::value_text(*c) : "") +
                       "; none in the graph");
    }

    // x · ½ (1 + erf(x / √2)): PyTorch's export of GELU() and save_onnx's.
    std::string gelu_erf(const std::string& x, const std::string& layer) {
        std::string y = step(x, "Div", std::numbers::sqrt2, {}, layer);
        y = step(y, "Erf", std::nullopt, {}, layer);
        y = step(y, "Add", 1.0, {}, layer);
        y = step(y, "Mul", std::nullopt, x, layer);
        return step(y, "Mul", 0.5, {}, layer);
    }

    // x · ½ (1 + tanh(√(2/π) (x + 0.044715 x³))), as save_onnx writes it.
    std::string gelu_tanh(const std::string& x, const std::string& layer) {
        std::string y = step(x, "Mul", std::nullopt, x, layer);
        y = step(y, "Mul", std::nullopt, x, layer);
        y = step(y, "Mul", 0.044715, {}, layer);
        y = step(y, "Add", std::nullopt, x, layer);
        y = step(y, "Mul", std::numbers::sqrt2 * std::numbers::inv_sqrtpi, {}, layer);
        y = step(y, "Tanh", std::nullopt, {}, layer);
        y = step(y, "Add", 1.0, {}, layer);
        y = step(y, "Mul", std::nullopt, x, layer);
        return step(y, "Mul", 0.5, {}, layer);
    }

    const onnx::GraphProto& graph_;
    std::map<std::string, onnx_array<T>> state_;
    std::string where_;
    std::map<std::string, const onnx::TensorProto*> tensors_;
    std::map<std::string, std::vector<int>> readers_; // tensor -> the nodes reading it
    std::set<int> consumed_;
    std::map<std::string, std::vector<T>> staged_;
    std::int64_t opset_ = onnx_opset;
    bool after_conv_ = false;
    std::optional<onnx_constant> pending_bias_;
    int pending_node_ = -1;
    std::string conv_layer_;
};

/// Reads and parses an ONNX file.
/// @throws io_error `where: …` for a missing, oversized, truncated or corrupt file.
inline onnx::ModelProto read_onnx_model(const std::filesystem::path& path,
                                        const std::string& where) {
    require_regular_file(path, where);
    const auto size = std::filesystem::file_size(path);
    if (size > (std::uintmax_t(1) << 31)) {
        throw io_error(where + ": " + std::to_string(size) +
                       " bytes; an ONNX file holds at most 2 GB");
    }
    std::ifstream in(path, std::ios::binary);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
        throw io_error(where + ": cannot read the file");
    }
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) {
        throw io_error(where + ": not an ONNX model (truncated, corrupt or another format)");
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
/// The graph is walked from its input along the model's layers: each layer must meet the
/// nodes it is exported as (dense: Gemm, or MatMul then Add; conv2d: Conv; batch norm:
/// BatchNormalization; the poolings: MaxPool, AveragePool (after a Pad of zeros, as PyTorch
/// writes counted padding), GlobalAveragePool; flatten: Flatten or a Reshape to (batch, -1);
/// softmax, log_softmax and each activation: their operators, gelu as its formula; random_affine:
/// nothing; dropout:
/// nothing, Dropout or Identity; residual: its block and an Add), with the attributes the layer
/// has (kernel, strides, pads, dilations, epsilon, alpha, transB...) and initializers of its
/// arrays' shapes, in float or double. A batch norm that PyTorch's exporter folded into the
/// Conv before it (any model in eval mode) is loaded as that Conv and an identity batch norm,
/// so the model computes what the file does. Every node must belong to a layer and the last
/// layer must give the graph's output.
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
    if (opset < 11) {
        throw io_error(where + ": operator set " + std::to_string(opset) +
                       "; load_onnx reads opset 11 and later (export with opset_version >= 11)");
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

    detail::onnx_reader<T> reader(graph, detail::state_arrays(model), where);
    reader.set_opset(opset);
    std::size_t rank = Model::input_rank;
    const std::string y = reader.match(architecture.model, "", input->name(), rank, "");
    reader.finish(y);
}

/// The architecture an ONNX file written by save_onnx() records in its metadata (see
/// read_architecture() for weight files), read without a model; `std::nullopt` for a file
/// from another exporter.
/// @throws io_error naming the file for a missing, truncated or corrupt file, or a damaged
/// record.
/// @ingroup onnx
inline std::optional<model_architecture> read_onnx_architecture(const std::filesystem::path& path) {
    const std::string where = "read_onnx_architecture: '" + path.string() + "'";
    const onnx::ModelProto proto = detail::read_onnx_model(path, where);
    for (const auto& p : proto.metadata_props()) {
        if (p.key() == detail::onnx_architecture_key) {
            return detail::architecture_from_json(p.value(), where);
        }
    }
    return std::nullopt;
}

} // namespace xtnn
