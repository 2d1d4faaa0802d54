/// @file
/// The exception types xtnn throws, and the helpers that word their messages.
#pragma once

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// A tensor had the wrong shape at an API boundary.
///
/// Messages read `<where>: <what>; expected (…), got (…)`, for example
/// `dense::forward: input shape mismatch; expected (batch, 784), got (32, 28, 28)`.
/// @ingroup core
class shape_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// A hyperparameter or option was impossible, e.g. a negative learning rate.
///
/// Messages read `<where>: <option> must be <rule>, got <value>`.
/// @ingroup core
class config_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// A file or dataset could not be read or written; the message names the file.
/// @ingroup core
class io_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A computation produced NaN or infinity, e.g. a training loss that diverged; the message
/// says where (epoch and batch).
/// @ingroup core
class numeric_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

namespace detail {

/// Builds `where: what; expected X, got Y`.
inline std::string mismatch_message(const std::string& where, const std::string& what,
                                    const std::string& expected, const std::string& got) {
    return where + ": " + what + "; expected " + expected + ", got " + got;
}

/// The first line (of lines separated by '\n') where `a` and `b` differ, as `'line'` from each,
/// `nothing` for a side that has run out of lines; nullopt if they are the same.
inline std::optional<std::pair<std::string, std::string>> first_different_line(std::string_view a,
                                                                               std::string_view b) {
    const auto quoted = [](std::string_view line) {
        return line.empty() ? std::string("nothing") : "'" + std::string(line) + "'";
    };
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() || j < b.size()) {
        const std::size_t ie = std::min(a.find('\n', i), a.size());
        const std::size_t je = std::min(b.find('\n', j), b.size());
        if (a.substr(i, ie - i) != b.substr(j, je - j)) {
            return std::pair{quoted(a.substr(i, ie - i)), quoted(b.substr(j, je - j))};
        }
        i = std::min(ie + 1, a.size()); // a side without a last '\n' ends at its size
        j = std::min(je + 1, b.size());
    }
    return std::nullopt;
}

/// Formats a number for messages in the shortest readable form ("0.001", "-1", "1e-10", "nan").
inline std::string format_number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
}

/// Where an error happened, e.g. {"dense", "forward"} -> "dense::forward". Holds views only,
/// so passing one costs nothing until an error message is built.
struct location {
    std::string_view type;          ///< The type, e.g. "dense".
    std::string_view function = {}; ///< The function, e.g. "forward"; may be empty.
    /// "type::function", or "type" alone.
    std::string str() const {
        std::string s(type);
        if (!function.empty()) {
            s += "::";
            s += function;
        }
        return s;
    }
};

/// Throws shape_error `where: what; expected (…), got (…)` unless the two shapes are equal.
/// Allocates nothing when they are.
template <class A, class B>
void require_shape(const A& expected, const B& got, location where, std::string_view what) {
    if (expected.size() != got.size() ||
        !std::equal(expected.begin(), expected.end(), got.begin())) {
        throw shape_error(mismatch_message(where.str(), std::string(what), format_shape(expected),
                                           format_shape(got)));
    }
}

/// Throws config_error `where: name must be rule, got value` unless `ok`.
inline void require_option(bool ok, const std::string& where, const std::string& name,
                           const std::string& rule, double value) {
    if (!ok) {
        throw config_error(where + ": " + name + " must be " + rule + ", got " +
                           format_number(value));
    }
}

} // namespace detail
} // namespace xtnn
