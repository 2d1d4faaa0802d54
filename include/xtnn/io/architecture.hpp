/// @file
/// The architecture record of weight files: a model_architecture as JSON text, written and
/// read back.
#pragma once

#include <cstdint>
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

inline nlohmann::ordered_json description_json(const layer_description& d) {
    nlohmann::ordered_json j;
    j["kind"] = d.kind;
    if (!d.options.empty()) {
        auto& options = j["options"] = nlohmann::ordered_json::object();
        for (const auto& option : d.options) {
            std::visit([&](const auto& v) { options[option.first] = v; }, option.second);
        }
    }
    if (!d.layers.empty()) {
        auto& layers = j["layers"] = nlohmann::ordered_json::array();
        for (const auto& l : d.layers) {
            layers.push_back(description_json(l));
        }
    }
    return j;
}

/// A whole number of a record, within std::int64_t.
inline std::int64_t record_integer(const nlohmann::ordered_json& j, const std::string& where) {
    if (j.is_number_unsigned()) {
        const auto u = j.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            throw io_error(where + ": the number " + std::to_string(u) + " is out of range");
        }
        return static_cast<std::int64_t>(u);
    }
    if (j.is_number_integer()) {
        return j.get<std::int64_t>();
    }
    throw io_error(where + ": expected a whole number, got " + j.dump());
}

inline option_value record_value(const nlohmann::ordered_json& j, const std::string& where) {
    if (j.is_boolean()) {
        return j.get<bool>();
    }
    if (j.is_number_integer()) {
        return record_integer(j, where);
    }
    if (j.is_number_float()) {
        return j.get<double>();
    }
    if (j.is_string()) {
        return j.get<std::string>();
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

inline layer_description description_from_json(const nlohmann::ordered_json& j,
                                               const std::string& where, std::size_t depth) {
    if (depth > architecture_max_depth) {
        throw io_error(where + ": layers nest deeper than " +
                       std::to_string(architecture_max_depth) + " levels");
    }
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
        throw io_error(where + ": a layer must be an object with a \"kind\" word");
    }
    layer_description d{j["kind"].get<std::string>()};
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

/// The record of `a` as one line of JSON (ASCII):
/// `{"format":"xtnn-architecture/1","xtnn_version":…,"dtype":…,"model":{"kind":…}}`.
inline std::string architecture_to_json(const model_architecture& a) {
    nlohmann::ordered_json j;
    j["format"] = architecture_format;
    j["xtnn_version"] = a.xtnn_version;
    j["dtype"] = a.dtype;
    j["model"] = description_json(a.model);
    return j.dump(-1, ' ', true);
}

/// Whether `text` is an architecture record (of any version of the format), as opposed to
/// some other text a file may carry.
inline bool is_architecture_record(std::string_view text) {
    return text.starts_with("{\"format\":\"xtnn-architecture/");
}

/// Reads a record written by architecture_to_json().
/// @throws io_error `where: …` for text that is not a record of this format.
inline model_architecture architecture_from_json(std::string_view text, const std::string& where) {
    const std::string record = where + ": architecture record";
    nlohmann::ordered_json j;
    try {
        j = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw io_error(record + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) {
        throw io_error(record + ": no \"format\"");
    }
    if (j["format"].get<std::string>() != architecture_format) {
        throw io_error(mismatch_message(record, "unknown format (written by a newer xtnn?)",
                                        std::string(architecture_format),
                                        j["format"].get<std::string>()));
    }
    const auto word = [&](const char* key) {
        if (!j.contains(key) || !j[key].is_string()) {
            throw io_error(record + ": no \"" + key + "\" word");
        }
        return j[key].get<std::string>();
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
