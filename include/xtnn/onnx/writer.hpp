/// @file
/// onnx_writer: the nodes and initializers of an ONNX graph, as the forms add them for
/// save_onnx().
#pragma once

#include <cstddef>
#include <cstdint>
#include <onnx/onnx_pb.h>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/onnx/graph.hpp>

namespace xtnn {

namespace detail {

/// Instantiated for a layer without an ONNX form; the compiler's "in instantiation of
/// onnx_form_required<…>" note names its type, and "in instantiation of … emit<…>" its
/// container.
template <class L>
struct onnx_form_required {
    static_assert(has_onnx_form<L>,
                  "xtnn: save_onnx / load_onnx: a layer of this model has no ONNX form; give its "
                  "type one (a specialization of xtnn::onnx_form, see docs/interop.md). The note "
                  "'in instantiation of onnx_form_required<L>' names the layer type");
    static constexpr bool value = true;
};

/// Instantiated for each layer of a sequential that is written or read; for a layer without a
/// form, the note "in instantiation of onnx_form_at<N, L>" names its position N and type L.
template <std::size_t Position, class L>
struct onnx_form_at {
    static_assert(has_onnx_form<L>,
                  "xtnn: save_onnx / load_onnx: a layer of this sequential has no ONNX form; "
                  "give its type one (a specialization of xtnn::onnx_form, see "
                  "docs/interop.md). The note 'in instantiation of onnx_form_at<N, L>' names "
                  "its position N and its type L");
    static constexpr bool value = true;
};

} // namespace detail

/// Builds an ONNX graph for save_onnx(): each layer's form adds its nodes (named
/// "<prefix><Op>", made unique, each node's output named as the node) and its arrays as
/// initializers named as in the state dict ("0.weight").
/// @tparam T the model's scalar type.
/// @ingroup onnx
template <class T>
class onnx_writer {
  public:
    /// Writes into `graph`; `where` ("save_onnx: 'file'") begins every message.
    onnx_writer(onnx::GraphProto& graph, std::string where)
        : graph_(graph), where_(std::move(where)) {}

    /// Adds the nodes of `layer` (at `at`) reading tensor `x`, through its form; returns the
    /// name of its output.
    template <class L>
    std::string emit(L& layer, const onnx_place& at, const std::string& x) {
        if constexpr (has_onnx_form<L>) {
            return onnx_form<L>::emit(*this, layer, at, x);
        } else {
            static_assert(detail::onnx_form_required<L>::value);
            return x;
        }
    }

    /// A node of operator `op` reading `inputs`, named `<prefix><op>` (made unique).
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
    /// add_node(), returning the node's output.
    std::string node(const std::string& op, const std::string& prefix,
                     const std::vector<std::string>& inputs) {
        return add_node(op, prefix, inputs).output(0);
    }

    /// The array `name` of `layer` (a parameter or buffer) as an initializer named
    /// "<prefix><name>" (once); returns that name.
    /// @throws io_error naming the layer if it has no such array.
    template <class L>
    std::string parameter(L& layer, const onnx_place& at, std::string_view name) {
        const std::string full = at.prefix + std::string(name);
        const auto array = detail::layer_array<T>(layer, name);
        if (!array) {
            throw io_error(where_ + ": " + onnx_layer_text(layer, at) +
                           ": the layer has no array '" + std::string(name) + "'");
        }
        if (used_.insert(full).second) {
            initializer(full, array->shape, std::span<const T>(array->values));
        }
        return full;
    }
    /// An initializer `name` of `n` copies of `value`.
    std::string filled(const std::string& name, std::size_t n, T value) {
        const std::vector<T> values(n, value);
        initializer(name, {n}, std::span<const T>(values));
        return name;
    }
    /// A scalar initializer `name` (once).
    std::string constant(const std::string& name, double value) {
        if (used_.insert(name).second) {
            const T v[1] = {static_cast<T>(value)};
            initializer(name, {}, std::span<const T>(v));
        }
        return name;
    }
    /// An int64 initializer `name`.
    std::string integers(const std::string& name, const std::vector<std::int64_t>& values) {
        initializer(name, {values.size()}, std::span<const std::int64_t>(values));
        return name;
    }

    /// Flatten(axis 1) of `x`.
    std::string flatten(const std::string& x, const std::string& prefix) {
        auto& n = add_node("Flatten", prefix, {x});
        set_int(n, "axis", 1);
        return n.output(0);
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

    /// "save_onnx: 'file'": how messages begin.
    const std::string& where() const { return where_; }

    /// An io_error "<where>: <layer text>: <what>".
    template <class L>
    io_error error(const L& layer, const onnx_place& at, const std::string& what) const {
        return io_error(where_ + ": " + onnx_layer_text(layer, at) + ": " + what);
    }

    /// Attribute setters.
    static void set_int(onnx::NodeProto& n, const char* name, std::int64_t v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(v);
    }
    /// A list of integers.
    static void set_ints(onnx::NodeProto& n, const char* name, const std::vector<std::int64_t>& v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INTS);
        for (const auto i : v) {
            a.add_ints(i);
        }
    }
    /// A float.
    static void set_float(onnx::NodeProto& n, const char* name, double v) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(static_cast<float>(v));
    }

  private:
    template <class V>
    void initializer(const std::string& name, const std::vector<std::size_t>& shape,
                     std::span<const V> values) {
        auto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(std::same_as<V, std::int64_t> ? onnx::TensorProto::INT64
                                                      : detail::onnx_element_type<V>());
        for (const auto extent : shape) {
            t.add_dims(static_cast<std::int64_t>(extent));
        }
        t.set_raw_data(
            std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(V)));
    }

    onnx::GraphProto& graph_;
    std::string where_;
    std::set<std::string> used_;
};

} // namespace xtnn
