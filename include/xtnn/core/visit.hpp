/// @file
/// visit: every layer of a model with its state-dict prefix, over sequential, residual and any
/// container; the one place the naming rule lives.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/core/parameter.hpp>

namespace xtnn {

/// A layer made of layers: it declares its children once, in order, with the key each adds to
/// the state-dict names of what it holds:
/// @code
/// template <class F>
/// void visit_children(F&& f) {           // and the same, const
///     f("0", first_);                    // "0.weight"…
///     f("", block_);                     // "" keeps the container's own prefix
///     f("projection", projection_);      // "projection.weight"
/// }
/// @endcode
/// visit(), parameters, buffers, descriptions, weight files and both ONNX directions follow
/// from it.
/// @ingroup concepts
template <class L>
concept container = requires(L& l) {
    l.visit_children([](std::string_view, auto&) {});
};

/// The prefix of a container's child: the container's `prefix` and the child's `key`, "1." in
/// "1.0.weight"; an empty key keeps the prefix (residual's block). The naming rule of
/// PyTorch's state dict, in one place.
/// @ingroup concepts
inline std::string child_prefix(const std::string& prefix, std::string_view key) {
    if (key.empty()) {
        return prefix;
    }
    std::string out = prefix;
    out += key;
    out += '.';
    return out;
}

/// Calls `f(prefix of child, child)` for each child of container `layer`, in order.
/// @ingroup concepts
template <container L, class F>
void for_each_child(L& layer, const std::string& prefix, F&& f) {
    layer.visit_children(
        [&](std::string_view key, auto& child) { f(child_prefix(prefix, key), child); });
}

/// Calls `f(prefix, layer)` for `layer` and, in order, every layer inside it (depth first,
/// a container before its children), `prefix` being the layer's state-dict prefix ("", "1.",
/// "1.0."). Const or not as `layer` is.
/// @code
/// xtnn::visit(model, [](const std::string& prefix, const auto& layer) {
///     std::cout << prefix << " " << layer.name << "\n";
/// });
/// @endcode
/// @ingroup concepts
template <class L, class F>
void visit(L& layer, F&& f, const std::string& prefix = {}) {
    f(prefix, layer);
    if constexpr (container<std::remove_const_t<L>>) {
        for_each_child(layer, prefix,
                       [&](const std::string& p, auto& child) { visit(child, f, p); });
    }
}

namespace detail {

/// Calls `f(prefix, leaf)` for every layer of `layer` that is not a container.
template <class L, class F>
void visit_leaves(L& layer, F&& f) {
    visit(layer, [&]<class V>(const std::string& prefix, V& l) {
        if constexpr (!container<std::remove_const_t<V>>) {
            f(prefix, l);
        }
    });
}

} // namespace detail

/// Every parameter inside `layer`, in order, named with its state-dict prefix ("1.0.weight"):
/// what a container's parameters() returns.
/// @ingroup concepts
template <class L>
auto collect_parameters(L& layer) {
    std::vector<parameter_view<typename L::value_type>> all;
    detail::visit_leaves(layer, [&](const std::string& prefix, auto& leaf) {
        for (auto& p : leaf.parameters()) {
            p.name = prefix + p.name;
            all.push_back(std::move(p));
        }
    });
    return all;
}

/// Every buffer inside `layer` (batch norm's running statistics), in order, named like
/// parameters: what a container's buffers() returns.
/// @ingroup concepts
template <class L>
auto collect_buffers(L& layer) {
    std::vector<buffer_view<typename L::value_type>> all;
    detail::visit_leaves(layer, [&]<class V>(const std::string& prefix, V& leaf) {
        if constexpr (detail::has_buffers<V>) {
            for (auto& b : leaf.buffers()) {
                b.name = prefix + b.name;
                all.push_back(std::move(b));
            }
        }
    });
    return all;
}

/// The engines of every layer inside `layer` that draws random numbers (dropout,
/// augmentation), in order, named by the layer's prefix: what fit's backups save.
/// @ingroup concepts
template <class L>
std::vector<std::pair<std::string, random_engine*>> collect_random_streams(L& layer) {
    std::vector<std::pair<std::string, random_engine*>> all;
    detail::visit_leaves(layer, [&]<class V>(const std::string& prefix, V& leaf) {
        if constexpr (detail::has_random_stream<V>) {
            all.emplace_back(prefix, &leaf.random_stream());
        }
    });
    return all;
}

/// The description of a container: its name and its children's descriptions, in order.
/// @ingroup concepts
template <container L>
layer_description describe_container(const L& layer) {
    layer_description d{std::string(L::name)};
    layer.visit_children(
        [&](std::string_view, const auto& child) { d.layers.push_back(describe(child)); });
    return d;
}

} // namespace xtnn
