/// @file
/// The architecture record of weight files: a model_architecture as JSON text, written and
/// read back.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>

namespace xtnn {

namespace detail {

/// The record's format tag, its first member: readers refuse a record of another format.
inline constexpr std::string_view architecture_format = "xtnn-architecture/1";

/// Containers nest at most this deep in a record read from a file (a model is never deeper;
/// a hostile record must not exhaust the stack).
inline constexpr std::size_t architecture_max_depth = 64;

/// The longest record read from a file: a model of thousands of layers takes a few hundred
/// kilobytes.
inline constexpr std::size_t architecture_max_bytes = std::size_t{4} << 20;

/// The most members of one object in a record read from a file: a layer has a few options.
/// (An object's members are kept in order, so each new key is compared with the others: a
/// bound keeps a hostile record from taking time that grows with their square.)
inline constexpr std::size_t architecture_max_keys = 1024;

/// The first characters of `text`, for an error message: at most 60, then "…".
inline std::string excerpt(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 60)) {
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
    return text.size() > 60 ? out + "…" : out;
}

// The record is written by hand (a fixed shape, like the .npy header), so that saving weights
// does not instantiate nlohmann's serializer in every program that saves: it costs about two
// seconds of compile time per source file. Reading a file's record goes through nlohmann.

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped, other
/// bytes (UTF-8) as they are.
inline void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    out += '"';
}

/// Appends an option's value as JSON; a real number always with a point or an exponent, so
/// that it reads back as a real number (1.0, not 1); a non-finite one as null, which no reader
/// accepts.
inline void append_json_value(std::string& out, const option_value& value) {
    std::visit(
        [&]<class V>(const V& v) {
            if constexpr (std::same_as<V, double>) {
                if (!std::isfinite(v)) {
                    out += "null";
                    return;
                }
                std::string text = layer_description::value_text(v);
                if (text.find_first_of(".eE") == std::string::npos) {
                    text += ".0";
                }
                out += text;
            } else if constexpr (std::same_as<V, std::string>) {
                append_json_string(out, v);
            } else if constexpr (std::same_as<V, std::vector<std::int64_t>>) {
                out += '[';
                for (std::size_t i = 0; i < v.size(); ++i) {
                    if (i > 0) { // (`"," + std::string`: GCC 12's false -Wrestrict)
                        out += ',';
                    }
                    out += std::to_string(v[i]);
                }
                out += ']';
            } else {
                out += layer_description::value_text(v); // true, false, a whole number
            }
        },
        value);
}

/// Appends `{"kind":…,"options":{…},"layers":[…]}` (options and layers only if any).
inline void append_description_json(std::string& out, const layer_description& d) {
    out += "{\"kind\":";
    append_json_string(out, d.kind);
    if (!d.options.empty()) {
        out += ",\"options\":{";
        for (std::size_t i = 0; i < d.options.size(); ++i) {
            out += i > 0 ? "," : "";
            append_json_string(out, d.options[i].first);
            out += ':';
            append_json_value(out, d.options[i].second);
        }
        out += '}';
    }
    if (!d.layers.empty()) {
        out += ",\"layers\":[";
        for (std::size_t i = 0; i < d.layers.size(); ++i) {
            out += i > 0 ? "," : "";
            append_description_json(out, d.layers[i]);
        }
        out += ']';
    }
    out += '}';
}

/// A whole number of a record, within std::int64_t.
template <class Json>
std::int64_t record_integer(const Json& j, const std::string& where) {
    if (j.is_number_unsigned()) {
        const auto u = j.template get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            throw io_error(where + ": the number " + std::to_string(u) + " is out of range");
        }
        return static_cast<std::int64_t>(u);
    }
    if (j.is_number_integer()) {
        return j.template get<std::int64_t>();
    }
    throw io_error(where + ": expected a whole number, got " + j.dump());
}

template <class Json>
option_value record_value(const Json& j, const std::string& where) {
    if (j.is_boolean()) {
        return j.template get<bool>();
    }
    if (j.is_number_integer()) {
        return record_integer(j, where);
    }
    if (j.is_number_float()) {
        return j.template get<double>();
    }
    if (j.is_string()) {
        return j.template get<std::string>();
    }
    if (j.is_array()) {
        std::vector<std::int64_t> list;
        for (const auto& item : j) {
            list.push_back(record_integer(item, where));
        }
        return list;
    }
    throw io_error(where +
                   ": an option must be a flag, a number, a word or a list of whole "
                   "numbers; got " +
                   std::string(j.type_name()));
}

template <class Json>
layer_description description_from_json(const Json& j, const std::string& where,
                                        std::size_t depth) {
    if (depth > architecture_max_depth) {
        throw io_error(where + ": layers nest deeper than " +
                       std::to_string(architecture_max_depth) + " levels");
    }
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
        throw io_error(where + ": a layer must be an object with a \"kind\" word");
    }
    layer_description d{j["kind"].template get<std::string>()};
    const std::string here = where + " (" + d.kind + ")";
    for (const auto& [key, value] : j.items()) {
        if (key == "kind") {
            continue;
        }
        if (key == "options" && value.is_object()) {
            for (const auto& [name, v] : value.items()) {
                d.options.emplace_back(name, record_value(v, here + ": option '" + name + "'"));
            }
        } else if (key == "layers" && value.is_array()) {
            for (std::size_t i = 0; i < value.size(); ++i) {
                d.layers.push_back(
                    description_from_json(value[i], where + "." + std::to_string(i), depth + 1));
            }
        } else {
            throw io_error(here + ": unexpected member '" + key + "'");
        }
    }
    return d;
}

/// The record of `a` as one line of JSON:
/// `{"format":"xtnn-architecture/1","xtnn_version":…,"dtype":…,"model":{"kind":…}}`.
inline std::string architecture_to_json(const model_architecture& a) {
    std::string out = "{\"format\":";
    append_json_string(out, architecture_format);
    out += ",\"xtnn_version\":";
    append_json_string(out, a.xtnn_version);
    out += ",\"dtype\":";
    append_json_string(out, a.dtype);
    out += ",\"model\":";
    append_description_json(out, a.model);
    return out + '}';
}

/// Whether `text` is an architecture record (of any version of the format), as opposed to
/// some other text a file may carry.
inline bool is_architecture_record(std::string_view text) {
    return text.starts_with("{\"format\":\"xtnn-architecture/");
}

/// Reads a record written by architecture_to_json().
/// @throws io_error `where: …` for text that is not a record of this format.
// Reading is a template (of nlohmann's JSON type) so that its parser is compiled only in a
// program that reads a record, not in every one that includes this header.
template <class Json = nlohmann::ordered_json>
model_architecture architecture_from_json(std::string_view text, const std::string& where) {
    const std::string record = where + ": architecture record";
    if (text.size() > architecture_max_bytes) {
        throw io_error(record + ": " + std::to_string(text.size()) + " bytes is too long for a " +
                       "record; expected at most " + std::to_string(architecture_max_bytes));
    }
    // The limits hold while parsing: a record nested or wide beyond them is refused at the
    // first member too many, before the parser builds (or destroys) a deep or wide tree.
    std::vector<std::size_t> keys; // members so far of each object open
    const auto bound = [&](int depth, nlohmann::json::parse_event_t event, Json&) {
        using event_t = nlohmann::json::parse_event_t;
        if ((event == event_t::object_start || event == event_t::array_start) &&
            static_cast<std::size_t>(depth) > 2 * architecture_max_depth + 4) {
            throw io_error(record + ": layers nest deeper than " +
                           std::to_string(architecture_max_depth) + " levels");
        }
        if (event == event_t::object_start) {
            keys.push_back(0);
        } else if (event == event_t::object_end && !keys.empty()) {
            keys.pop_back();
        } else if (event == event_t::key && !keys.empty() &&
                   ++keys.back() > architecture_max_keys) {
            throw io_error(record + ": an object has more than " +
                           std::to_string(architecture_max_keys) + " members");
        }
        return true;
    };
    Json j;
    try {
        j = Json::parse(text, bound);
    } catch (const nlohmann::json::exception& e) {
        throw io_error(record + ": not valid JSON (" + e.what() + "), in '" + excerpt(text) + "'");
    }
    if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) {
        throw io_error(record + ": no \"format\"");
    }
    if (j["format"].template get<std::string>() != architecture_format) {
        throw io_error(mismatch_message(record, "unknown format (written by a newer xtnn?)",
                                        std::string(architecture_format),
                                        j["format"].template get<std::string>()));
    }
    const auto word = [&](const char* key) {
        if (!j.contains(key) || !j[key].is_string()) {
            throw io_error(record + ": no \"" + key + "\" word");
        }
        return j[key].template get<std::string>();
    };
    model_architecture a;
    a.xtnn_version = word("xtnn_version");
    a.dtype = word("dtype");
    if (!j.contains("model")) {
        throw io_error(record + ": no \"model\"");
    }
    a.model = description_from_json(j["model"], record + ": model", 0);
    return a;
}

} // namespace detail

} // namespace xtnn
