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
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <xtnn/core/errors.hpp>
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

/// How a value of type `V` becomes an option_value in a description and back: `encode(v)`,
/// `decode(value, v)` (false for a value of another kind or out of `V`'s range) and `expected`,
/// the words of an error. Flags, whole and real numbers and words are built in; a type of
/// options (such as extent2) specializes it next to its definition.
/// @ingroup concepts
template <class V>
struct option_codec;

/// A flag.
template <>
struct option_codec<bool> {
    /// The option's value of `v`.
    static option_value encode(bool v) { return v; }
    /// Reads `value` into `v`; false for a value of another kind.
    static bool decode(const option_value& value, bool& v) {
        const auto* b = std::get_if<bool>(&value);
        return b != nullptr && (v = *b, true);
    }
    /// What an error says was expected.
    static constexpr std::string_view expected = "a flag (true or false)";
};

/// A whole number (of std::int64_t's range; an unsigned one >= 0).
template <class I>
requires std::integral<I> &&(!std::same_as<I, bool>)struct option_codec<I> {
    /// The option's value of `v`.
    static option_value encode(I v) { return static_cast<std::int64_t>(v); }
    /// Reads `value` into `v`; false for another kind or a number out of I's range.
    static bool decode(const option_value& value, I& v) {
        const auto* i = std::get_if<std::int64_t>(&value);
        if (i == nullptr || !std::in_range<I>(*i)) {
            return false;
        }
        v = static_cast<I>(*i);
        return true;
    }
    /// What an error says was expected.
    static constexpr std::string_view expected =
        std::is_unsigned_v<I> ? "a whole number >= 0" : "a whole number";
};

/// A real number (a whole number reads as one too).
template <std::floating_point F>
struct option_codec<F> {
    /// The option's value of `v`.
    static option_value encode(F v) { return static_cast<double>(v); }
    /// Reads `value` into `v`; false for a value that is not a number.
    static bool decode(const option_value& value, F& v) {
        if (const auto* d = std::get_if<double>(&value)) {
            v = static_cast<F>(*d);
            return true;
        }
        if (const auto* i = std::get_if<std::int64_t>(&value)) {
            v = static_cast<F>(*i);
            return true;
        }
        return false;
    }
    /// What an error says was expected.
    static constexpr std::string_view expected = "a number";
};

/// A word.
template <>
struct option_codec<std::string> {
    /// The option's value of `v`.
    static option_value encode(const std::string& v) { return v; }
    /// Reads `value` into `v`; false for a value that is not a word.
    static bool decode(const option_value& value, std::string& v) {
        const auto* s = std::get_if<std::string>(&value);
        return s != nullptr && (v = *s, true);
    }
    /// What an error says was expected.
    static constexpr std::string_view expected = "a word";
};

/// One option of an options struct as a description records it: its key and its member.
/// @ingroup concepts
template <class Owner, class V>
struct option_field {
    std::string_view key; ///< The option's name in descriptions ("in", "kernel_size").
    V Owner::*member;     ///< The member that holds it.
};

/// The field `key` of `Owner`, held in `member`: one entry of an options struct's `fields()`.
/// @ingroup concepts
template <class Owner, class V>
constexpr option_field<Owner, V> field(std::string_view key, V Owner::*member) {
    return {key, member};
}

/// An options struct (or a spec, or an activation) that lists the options a description
/// records, once, in a static `fields()`:
/// @code
/// struct dense_options {
///     std::size_t in = 0, out = 0;
///     bool bias = true;
///     initializer weight_init = glorot_uniform{}; // chooses weights: not described
///     static constexpr auto fields() {
///         return std::tuple{xtnn::field("in", &dense_options::in),
///                           xtnn::field("out", &dense_options::out),
///                           xtnn::field("bias", &dense_options::bias)};
///     }
/// };
/// @endcode
/// describe(), from_description() and equal_options() all follow from that list.
/// @ingroup concepts
template <class O>
concept described_options = requires {
    O::fields();
};

namespace detail {

/// The options of a type of options, or none.
template <class O>
constexpr auto fields_of() {
    if constexpr (described_options<O>) {
        return O::fields();
    } else {
        return std::tuple<>{};
    }
}

/// "in, out, bias": the keys of O's fields, for a message.
template <class O>
std::string field_keys() {
    std::string keys;
    std::apply(
        [&](const auto&... f) { ((keys += (keys.empty() ? "" : ", ") + std::string(f.key)), ...); },
        fields_of<O>());
    return keys.empty() ? std::string("none") : keys;
}

/// "layer 2" or, for the root, "the model".
inline std::string layer_path_text(const std::string& path) {
    return path.empty() ? std::string("the model") : "layer " + path;
}

/// The path of a container's child `i`: "3", "3.1".
inline std::string child_path(const std::string& path, std::size_t i) {
    return path.empty() ? std::to_string(i) : path + "." + std::to_string(i);
}

} // namespace detail

/// Appends `options`' described fields to `d`, in the order of the field list.
/// @ingroup concepts
template <class O>
void append_options(layer_description& d, const O& options) {
    std::apply(
        [&](const auto&... f) {
            (d.options.emplace_back(
                 std::string(f.key),
                 option_codec<std::remove_cvref_t<decltype(options.*(f.member))>>::encode(
                     options.*(f.member))),
             ...);
        },
        detail::fields_of<O>());
}

/// Whether `a` and `b` agree in every described field (what their descriptions compare).
/// @ingroup concepts
template <described_options O>
bool equal_options(const O& a, const O& b) {
    layer_description da, db;
    append_options(da, a);
    append_options(db, b);
    return da.options == db.options;
}

/// `defaults` with every option of `d` read into its field: a key the list lacks, a key given
/// twice, or a value of another kind is a config_error naming `where`, the key and what was
/// expected. Fields `d` does not mention keep their defaults (what an older file meant).
/// @ingroup concepts
template <class O>
O options_from(const layer_description& d, O defaults, const std::string& where) {
    for (std::size_t i = 0; i < d.options.size(); ++i) {
        // (not a structured binding: Clang 14's lambdas cannot capture one)
        const std::string& key = d.options[i].first;
        const option_value& value = d.options[i].second;
        for (std::size_t j = 0; j < i; ++j) {
            if (d.options[j].first == key) {
                throw config_error(where + ": option '" + key + "' is given twice");
            }
        }
        bool known = false;
        std::apply(
            [&](const auto&... f) {
                (
                    [&] {
                        if (known || f.key != key) {
                            return;
                        }
                        known = true;
                        using V = std::remove_cvref_t<decltype(defaults.*(f.member))>;
                        if (!option_codec<V>::decode(value, defaults.*(f.member))) {
                            throw config_error(where + ": option '" + key + "' must be " +
                                               std::string(option_codec<V>::expected) + ", got " +
                                               layer_description::value_text(value));
                        }
                    }(),
                    ...);
            },
            detail::fields_of<O>());
        if (!known) {
            throw config_error(where + ": " + d.kind + " has no option '" + key +
                               "' (its options: " + detail::field_keys<O>() + ")");
        }
    }
    return defaults;
}

/// The description of `layer` (a layer, an activation or a spec): its own `describe()` if it
/// has one (containers describe their layers), else its `name` and the described fields of its
/// `options()`, or of itself (a spec or an activation with a field list), in the list's order.
/// @ingroup concepts
template <class L>
layer_description describe(const L& layer) {
    if constexpr (requires {
                      { layer.describe() } -> std::same_as<layer_description>;
                  }) {
        return layer.describe();
    } else {
        layer_description d{std::string(L::name)};
        if constexpr (requires { layer.options(); }) {
            append_options(d, layer.options());
        } else {
            append_options(d, layer);
        }
        return d;
    }
}

namespace detail {

/// Builds an `L` from `d`, the description of the layer at `path`.
template <class L>
L build_from_description(const layer_description& d, const std::string& path) {
    if constexpr (requires { L::from_description(d, path); }) { // a container
        return L::from_description(d, path);
    } else {
        const std::string where = "from_description: " + layer_path_text(path);
        if (d.kind != L::name || !d.layers.empty()) {
            throw config_error(where + ": expected " + std::string(L::name) + ", got " +
                               d.to_string());
        }
        const std::string here = where + " (" + std::string(L::name) + ")";
        if constexpr (requires { typename L::options_type; }) {
            return L(options_from(d, typename L::options_type{}, here));
        } else { // a spec or an activation (without a field list, any option is an error)
            return options_from(d, L{}, here);
        }
    }
}

} // namespace detail

/// The layer or model of type `L` that description `d` describes: the inverse of describe().
///
/// A program that knows a model's type builds it with the options a file records (hidden
/// sizes, channels, kernel sizes, dropout rates), with the default initializers and seed 0:
/// @code
/// using mlp = xtnn::sequential<xtnn::dense<float>, xtnn::relu, xtnn::dropout,
///                              xtnn::dense<float>>;
/// auto model = xtnn::from_description<mlp>(xtnn::read_architecture(path)->model);
/// xtnn::load_weights(model, path);
/// @endcode
/// @throws config_error naming the first layer (by its index path, "layer 3.1") whose kind,
/// layer count or options differ from what `L` can be, and what it got; or a layer's own
/// config_error for an impossible value (a dropout rate of 2).
/// @ingroup concepts
template <class L>
L from_description(const layer_description& d) {
    return detail::build_from_description<L>(d, "");
}

/// What a weight file records about its model: the model's description, its scalar type and
/// the version of xtnn that wrote it.
/// @ingroup concepts
struct model_architecture {
    layer_description model;  ///< The whole model, e.g. kind "sequential" with its layers.
    std::string dtype;        ///< The parameters' NumPy type: "float32" or "float64".
    std::string xtnn_version; ///< The writer's version, "0.1.0".

    /// The scalar type, then a line per layer ("layer 2: dense(in=128, out=10)", or the whole
    /// model on one line if it has no layers): what fit compares between processes and with
    /// its backups, naming the first line that differs (first_different_line()).
    std::string lines() const {
        std::string text = dtype + "\n";
        if (model.layers.empty()) {
            return text + "model: " + model.to_string() + "\n";
        }
        for (std::size_t i = 0; i < model.layers.size(); ++i) {
            text += "layer " + std::to_string(i) + ": " + model.layers[i].to_string() + "\n";
        }
        return text;
    }

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
