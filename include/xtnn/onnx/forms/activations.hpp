/// @file
/// The ONNX forms of the activations: their operators (Relu, Sigmoid, Tanh, Softplus,
/// LeakyRelu, Elu, Identity), gelu as its formula.
#pragma once

#include <cstddef>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>

#include <xtnn/activations/elu.hpp>
#include <xtnn/activations/gelu.hpp>
#include <xtnn/activations/identity.hpp>
#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/activations/sigmoid.hpp>
#include <xtnn/activations/softplus.hpp>
#include <xtnn/activations/tanh.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// How activation `A` is written and read: `emit(writer, a, prefix, x)` and
/// `match(reader, a, x, layer_text)`, each returning the output. activation_layer<A> has an
/// ONNX form exactly when `A` has one of these.
/// @ingroup onnx
template <class A>
struct onnx_activation_form {
    static constexpr bool none = true; ///< No form: the primary template.
};

namespace detail {

/// An activation `Act` that is one ONNX operator (`Form::onnx_operator()`) with, when `Form`
/// has `alpha(a)`, a float attribute "alpha".
template <class Form, class Act>
struct onnx_operator_activation {
    /// Adds the nodes reading x; returns the output.
    template <class T>
    static std::string emit(onnx_writer<T>& w, const Act& a, const std::string& prefix,
                            const std::string& x) {
        auto& n = w.add_node(std::string(Form::onnx_operator()), prefix, {x});
        if constexpr (requires { Form::alpha(a); }) {
            w.set_float(n, "alpha", Form::alpha(a));
        }
        return n.output(0);
    }
    /// Matches the nodes reading x; returns the output.
    template <class T>
    static std::string match(onnx_reader<T>& r, const Act& a, const std::string& x,
                             const std::string& layer) {
        const int n = r.require(x, {Form::onnx_operator()}, layer);
        if constexpr (requires { Form::alpha(a); }) {
            r.require_close(n, layer, "alpha", r.float_attribute(n, "alpha", Form::default_alpha),
                            Form::alpha(a));
        }
        return r.take(n);
    }
};

} // namespace detail

/// relu: Relu.
template <>
struct onnx_activation_form<relu>
    : detail::onnx_operator_activation<onnx_activation_form<relu>, relu> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "Relu"; }
};
/// sigmoid: Sigmoid.
template <>
struct onnx_activation_form<sigmoid>
    : detail::onnx_operator_activation<onnx_activation_form<sigmoid>, sigmoid> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "Sigmoid"; }
};
/// tanh: Tanh.
template <>
struct onnx_activation_form<tanh>
    : detail::onnx_operator_activation<onnx_activation_form<tanh>, tanh> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "Tanh"; }
};
/// softplus: Softplus.
template <>
struct onnx_activation_form<softplus>
    : detail::onnx_operator_activation<onnx_activation_form<softplus>, softplus> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "Softplus"; }
};
/// leaky_relu: LeakyRelu(alpha = negative_slope).
template <>
struct onnx_activation_form<leaky_relu>
    : detail::onnx_operator_activation<onnx_activation_form<leaky_relu>, leaky_relu> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "LeakyRelu"; }
    /// Its "alpha": the negative slope.
    static double alpha(const leaky_relu& a) { return a.negative_slope; }
    /// ONNX's default alpha.
    static constexpr double default_alpha = 0.01;
};
/// elu: Elu(alpha).
template <>
struct onnx_activation_form<elu>
    : detail::onnx_operator_activation<onnx_activation_form<elu>, elu> {
    /// The ONNX operator.
    static constexpr std::string_view onnx_operator() { return "Elu"; }
    /// Its "alpha".
    static double alpha(const elu& a) { return a.alpha; }
    /// ONNX's default alpha.
    static constexpr double default_alpha = 1.0;
};

/// identity: Identity, which the reader sees through (as any Identity node).
template <>
struct onnx_activation_form<identity> {
    /// Adds the nodes reading x; returns the output.
    template <class T>
    static std::string emit(onnx_writer<T>& w, const identity&, const std::string& prefix,
                            const std::string& x) {
        return w.node("Identity", prefix, {x});
    }
    /// Matches the nodes reading x; returns the output.
    template <class T>
    static std::string match(onnx_reader<T>&, const identity&, const std::string& x,
                             const std::string&) {
        return x;
    }
};

/// gelu: `x · ½ (1 + erf(x / √2))` (PyTorch's export of GELU()), or with `approximate`
/// `x · ½ (1 + tanh(√(2/π) (x + 0.044715 x³)))`, as elementary operators.
template <>
struct onnx_activation_form<gelu> {
    /// Adds the nodes reading x; returns the output.
    template <class T>
    static std::string emit(onnx_writer<T>& w, const gelu& a, const std::string& prefix,
                            const std::string& x) {
        const std::string half = w.constant(prefix + "gelu.half", 0.5);
        const std::string one = w.constant(prefix + "gelu.one", 1.0);
        std::string inner;
        if (a.approximate) {
            const std::string x3 = w.node("Mul", prefix, {w.node("Mul", prefix, {x, x}), x});
            const std::string cubic =
                w.node("Mul", prefix, {x3, w.constant(prefix + "gelu.k1", 0.044715)});
            const std::string sum = w.node("Add", prefix, {x, cubic});
            inner =
                w.node("Tanh", prefix,
                       {w.node("Mul", prefix,
                               {sum, w.constant(prefix + "gelu.k0",
                                                std::numbers::sqrt2 * std::numbers::inv_sqrtpi)})});
        } else {
            inner = w.node("Erf", prefix,
                           {w.node("Div", prefix,
                                   {x, w.constant(prefix + "gelu.sqrt2", std::numbers::sqrt2)})});
        }
        const std::string scaled = w.node("Mul", prefix, {x, w.node("Add", prefix, {inner, one})});
        return w.node("Mul", prefix, {scaled, half});
    }

    /// Matches the nodes reading x; returns the output.
    template <class T>
    static std::string match(onnx_reader<T>& r, const gelu& a, const std::string& x,
                             const std::string& layer) {
        const auto step = [&](const std::string& y, const char* op, std::optional<double> c,
                              const std::string& other) {
            for (const int i : r.readers(y)) {
                if (r.used(i) || r.node(i).op_type() != op) {
                    continue;
                }
                const auto& in = r.inputs(i);
                const bool ok = c ? in.size() == 2 && ((in[0] == y && r.is_scalar(in[1], *c)) ||
                                                       (in[1] == y && r.is_scalar(in[0], *c)))
                                : other.empty()
                                    ? in.size() == 1 && in[0] == y
                                    : in.size() == 2 && ((in[0] == y && in[1] == other) ||
                                                         (in[0] == other && in[1] == y));
                if (ok) {
                    return r.take(i);
                }
            }
            throw r.error(layer + ": expected gelu's formula: a " + op + " node reading '" + y +
                          "'" +
                          (c ? " and the constant " + layer_description::value_text(*c) : "") +
                          "; none in the graph");
        };
        std::string y;
        if (a.approximate) {
            y = step(x, "Mul", std::nullopt, x);
            y = step(y, "Mul", std::nullopt, x);
            y = step(y, "Mul", 0.044715, {});
            y = step(y, "Add", std::nullopt, x);
            y = step(y, "Mul", std::numbers::sqrt2 * std::numbers::inv_sqrtpi, {});
            y = step(y, "Tanh", std::nullopt, {});
        } else {
            y = step(x, "Div", std::numbers::sqrt2, {});
            y = step(y, "Erf", std::nullopt, {});
        }
        y = step(y, "Add", 1.0, {});
        y = step(y, "Mul", std::nullopt, x);
        return step(y, "Mul", 0.5, {});
    }
};

/// An activation layer: its activation's form.
/// @ingroup onnx
template <class A, class T, std::size_t N>
requires(!requires { onnx_activation_form<A>::none; }) struct onnx_form<activation_layer<A, T, N>> {
    /// The activation's nodes.
    static std::string emit(onnx_writer<T>& w, activation_layer<A, T, N>& l, const onnx_place& at,
                            const std::string& x) {
        return onnx_activation_form<A>::emit(w, l.options(), at.prefix, x);
    }
    /// The activation's nodes.
    static std::string match(onnx_reader<T>& r, activation_layer<A, T, N>& l, const onnx_place& at,
                             const std::string& x, std::size_t&) {
        return onnx_activation_form<A>::match(r, l.options(), x, onnx_layer_text(l, at));
    }
};

} // namespace xtnn
