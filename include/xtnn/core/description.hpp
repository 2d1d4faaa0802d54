/// @file
/// layer_description: what a layer is (its kind and options), recorded in weight files so that
/// a file knows the model it belongs to.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <xtnn/version.hpp>

namespace xtnn {

/// The value of one option in a layer_description: a flag, a whole number, a real number, a
/// word, or a list of whole numbers (a kernel's (height, width)).
/// @ingroup concepts
using option_value =
    std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>>;

/// What a layer is, independent of its weights: its kind ("dense", "conv2d", "relu",
/// "sequential"…), its options in the order of its options struct, and for a container
/// (sequential, residual) the descriptions of its layers.
///
/// Two layers with equal descriptions compute the same function of the same parameters, which
/// is what load_weights() checks against the record in a weight file. Options are named as in
/// the layer's options struct (`in`, `out`, `bias` for dense), so a program can build the
/// model a file describes (read_architecture()). Initializers and seeds are not part of it:
/// they choose the weights, which the file holds.
///
/// Every built-in layer and activation describes itself with a member `describe()`; a layer of
/// your own without one is described by its `name` alone (describe()).
/// @code
/// xtnn::describe(xtnn::conv2d<float>{1, 32, 3}).to_string()
/// // conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), stride=(1, 1),
/// //        padding=(0, 0), dilation=(1, 1), bias=true)
/// @endcode
/// @ingroup concepts
struct layer_description {
    std::string kind;                                          ///< The layer's name.
    std::vector<std::pair<std::string, option_value>> options; ///< Its options, in order.
    std::vector<layer_description> layers;                     ///< A container's layers.

    layer_description() = default;
    /// A layer of kind `kind`, with no options yet.
    explicit layer_description(std::string kind_name) : kind(std::move(kind_name)) {}

    /// Adds an option (a whole number, real number, flag, word or list); returns *this.
    template <class V>
    layer_description& with(std::string key, V value) {
        options.emplace_back(std::move(key), to_value(std::move(value)));
        return *this;
    }

    /// The value of option `key`, if the layer has it.
    const option_value* option(std::string_view key) const {
        for (const auto& [k, v] : options) {
            if (k == key) {
                return &v;
            }
        }
        return nullptr;
    }

    /// One line, PyTorch's style: `dense(in=784, out=128, bias=true)`, `relu`,
    /// `sequential(dense(…), relu, …)`.
    std::string to_string() const {
        std::string out = kind;
        if (options.empty() && layers.empty()) {
            return out;
        }
        out += '(';
        bool first = true;
        const auto separate = [&] {
            if (!first) {
                out += ", ";
            }
            first = false;
        };
        for (const auto& l : layers) {
            separate();
            out += l.to_string();
        }
        for (const auto& [key, value] : options) {
            separate();
            out += key + '=' + value_text(value);
        }
        return out + ')';
    }

    /// Equal kinds, options (in order) and layers.
    friend bool operator==(const layer_description&, const layer_description&) = default;

    /// The text of one value: `true`, `784`, `0.2`, `same`, `(3, 3)`.
    static std::string value_text(const option_value& value) {
        return std::visit(
            []<class V>(const V& v) -> std::string {
                if constexpr (std::same_as<V, bool>) {
                    return v ? "true" : "false";
                } else if constexpr (std::same_as<V, std::int64_t>) {
                    return std::to_string(v);
                } else if constexpr (std::same_as<V, double>) {
                    char text[32];
                    std::snprintf(text, sizeof text, "%.17g", v);
                    // the shortest text that reads back as the same double
                    for (int digits = 1; digits < 17; ++digits) {
                        char shorter[32];
                        std::snprintf(shorter, sizeof shorter, "%.*g", digits, v);
                        if (std::strtod(shorter, nullptr) == v) {
                            return shorter;
                        }
                    }
                    return text;
                } else if constexpr (std::same_as<V, std::string>) {
                    return v;
                } else {
                    std::string list = "(";
                    for (std::size_t i = 0; i < v.size(); ++i) {
                        if (i > 0) { // (`", " + std::string`: GCC 12's false -Wrestrict)
                            list += ", ";
                        }
                        list += std::to_string(v[i]);
                    }
                    return list + ")";
                }
            },
            value);
    }

  private:
    template <class V>
    static option_value to_value(V value) {
        if constexpr (std::same_as<V, bool>) {
            return value;
        } else if constexpr (std::integral<V>) {
            return static_cast<std::int64_t>(value);
        } else if constexpr (std::floating_point<V>) {
            return static_cast<double>(value);
        } else if constexpr (std::convertible_to<V, std::string>) {
            return std::string(std::move(value));
        } else if constexpr (requires { value.height + value.width; }) { // (height, width)
            return std::vector<std::int64_t>{static_cast<std::int64_t>(value.height),
                                             static_cast<std::int64_t>(value.width)};
        } else {
            return std::vector<std::int64_t>(value.begin(), value.end());
        }
    }
};

/// The description of `layer` (a layer, an activation or a spec): its own `describe()` if it
/// has one, else its `name` with no options.
/// @ingroup concepts
template <class L>
layer_description describe(const L& layer) {
    if constexpr (requires {
                      { layer.describe() } -> std::same_as<layer_description>;
                  }) {
        return layer.describe();
    } else {
        return layer_description{std::string(L::name)};
    }
}

/// What a weight file records about its model: the model's description, its scalar type and
/// the version of xtnn that wrote it.
/// @ingroup concepts
struct model_architecture {
    layer_description model;  ///< The whole model, e.g. kind "sequential" with its layers.
    std::string dtype;        ///< The parameters' NumPy type: "float32" or "float64".
    std::string xtnn_version; ///< The writer's version, "0.1.0".

    /// Where `other` first differs from this description, as text naming the layer (by its
    /// index path, "layer 2" or "layer 3.1" inside a container) and both descriptions;
    /// nullopt if the models are the same. `mine` and `theirs` name the two sides ("the file",
    /// "the model").
    std::optional<std::string> first_difference(const model_architecture& other,
                                                std::string_view mine,
                                                std::string_view theirs) const {
        if (dtype != other.dtype) {
            return std::string(mine) + " holds " + dtype + " parameters, " + std::string(theirs) +
                   " has " + other.dtype;
        }
        return difference(model, other.model, "", mine, theirs);
    }

  private:
    static std::optional<std::string> difference(const layer_description& a,
                                                 const layer_description& b,
                                                 const std::string& path, std::string_view mine,
                                                 std::string_view theirs) {
        const std::string where = path.empty() ? "the model" : "layer " + path;
        if (a.kind == b.kind && a.options == b.options) {
            const std::size_t common = std::min(a.layers.size(), b.layers.size());
            for (std::size_t i = 0; i < common; ++i) {
                auto d =
                    difference(a.layers[i], b.layers[i],
                               (path.empty() ? "" : path + ".") + std::to_string(i), mine, theirs);
                if (d) {
                    return d;
                }
            }
            if (a.layers.size() == b.layers.size()) {
                return std::nullopt;
            }
            const std::string at = (path.empty() ? "" : path + ".") + std::to_string(common);
            const auto describe_at = [&](const layer_description& d) {
                return common < d.layers.size() ? d.layers[common].to_string()
                                                : std::string("nothing (") +
                                                      std::to_string(d.layers.size()) + " layers)";
            };
            return "layer " + at + " differs: " + std::string(mine) + " has " + describe_at(a) +
                   ", " + std::string(theirs) + " has " + describe_at(b);
        }
        return where + " differs: " + std::string(mine) + " has " + a.to_string() + ", " +
               std::string(theirs) + " has " + b.to_string();
    }
};

/// The record of `model` that save_weights() writes: its description, its scalar type and
/// this xtnn's version.
/// @ingroup concepts
template <class Model>
model_architecture architecture_of(const Model& model) {
    using T = typename Model::value_type;
    static_assert(std::same_as<T, float> || std::same_as<T, double>,
                  "xtnn: architecture_of: the model's scalar type must be float or double");
    return {describe(model), std::same_as<T, float> ? "float32" : "float64",
            std::to_string(XTNN_VERSION_MAJOR) + "." + std::to_string(XTNN_VERSION_MINOR) + "." +
                std::to_string(XTNN_VERSION_PATCH)};
}

} // namespace xtnn
