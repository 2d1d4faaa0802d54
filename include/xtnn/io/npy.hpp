/// @file
/// The NumPy .npy array format: writing headers and parsing them strictly.
#pragma once

#include <bit>
#include <cctype>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

/// What an .npy header says: the element type, the memory order and the shape.
/// @ingroup io
struct npy_header {
    std::string descr;              ///< The element type, e.g. "<f4" (little-endian float32).
    bool fortran_order = false;     ///< Column-major data (xtnn reads row-major only).
    std::vector<std::size_t> shape; ///< The extents; () for a scalar.
};

namespace detail {

/// The .npy type string of T on this machine: "<f4", "<f8", "<i8" on little-endian hosts;
/// "|u1" for bytes.
template <class T>
requires std::floating_point<T> || std::same_as<T, std::int64_t> || std::same_as<T, std::uint8_t>
    std::string npy_descr() {
    if constexpr (std::same_as<T, std::uint8_t>) {
        return "|u1";
    } else {
        static_assert(sizeof(T) == 4 || sizeof(T) == 8, "xtnn: .npy I/O supports float and double");
        const char order = std::endian::native == std::endian::little ? '<' : '>';
        return std::string(1, order) + (std::floating_point<T> ? 'f' : 'i') +
               std::to_string(sizeof(T));
    }
}

/// The complete .npy prefix (magic, version 1.0, header length, header dict) for an array of
/// `descr` and `shape`, padded with spaces so the data starts at a multiple of 64 bytes.
inline std::string npy_prefix(const std::string& descr, std::span<const std::size_t> shape) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
        if (i + 1 < shape.size()) {
            dict += " ";
        }
    }
    dict += "), }";
    const std::size_t unpadded = 10 + dict.size() + 1; // magic+version+length, dict, '\n'
    dict.append((64 - unpadded % 64) % 64, ' ');
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(dict.size() & 0xFF);
    out += static_cast<char>((dict.size() >> 8) & 0xFF);
    return out + dict;
}

/// A strict reader of the Python literal in an .npy header: a dict of string keys to strings,
/// True/False or tuples of integers.
class npy_dict_parser {
  public:
    explicit npy_dict_parser(std::string_view text) : text_(text) {}

    npy_header parse() {
        npy_header header;
        bool has_descr = false, has_order = false, has_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') {
                ++pos_;
                break;
            }
            const std::string key = read_string();
            expect(':');
            if (key == "descr") {
                header.descr = read_string();
                has_descr = true;
            } else if (key == "fortran_order") {
                header.fortran_order = read_bool();
                has_order = true;
            } else if (key == "shape") {
                header.shape = read_shape();
                has_shape = true;
            } else {
                fail("unknown key '" + key + "'");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != '}') {
                fail("expected ',' or '}'");
            }
        }
        if (!has_descr || !has_order || !has_shape) {
            fail("it lacks one of 'descr', 'fortran_order' and 'shape'");
        }
        return header;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw io_error("bad .npy header: " + what + " at offset " + std::to_string(pos_));
    }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
            ++pos_;
        }
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void expect(char c) {
        skip_space();
        if (peek() != c) {
            fail(std::string("expected '") + c + "'");
        }
        ++pos_;
    }
    std::string read_string() {
        skip_space();
        const char quote = peek();
        if (quote != '\'' && quote != '"') {
            fail("expected a quoted string");
        }
        const std::size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) {
            fail("unterminated string");
        }
        std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return s;
    }
    bool read_bool() {
        skip_space();
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        fail("expected True or False");
    }
    std::vector<std::size_t> read_shape() {
        std::vector<std::size_t> shape;
        expect('(');
        while (true) {
            skip_space();
            if (peek() == ')') {
                ++pos_;
                return shape;
            }
            if (!std::isdigit(static_cast<unsigned char>(peek()))) {
                fail("expected an extent");
            }
            std::size_t value = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const auto digit = static_cast<std::size_t>(peek() - '0');
                if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
                    fail("an extent overflows");
                }
                value = value * 10 + digit;
                ++pos_;
            }
            shape.push_back(value);
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != ')') {
                fail("expected ',' or ')' in the shape");
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

/// The length of the .npy prefix given its first 12 bytes (10 for version 1), or an error.
/// @throws io_error for a bad magic string or an unknown version.
inline std::size_t npy_prefix_length(std::string_view first_bytes) {
    if (first_bytes.size() < 10 || first_bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6)) {
        throw io_error("not an .npy array (bad magic string)");
    }
    const auto major = static_cast<unsigned char>(first_bytes[6]);
    const auto byte = [&](std::size_t i) {
        return static_cast<std::size_t>(static_cast<unsigned char>(first_bytes[i]));
    };
    if (major == 1) {
        return 10 + (byte(8) | byte(9) << 8);
    }
    if ((major == 2 || major == 3) && first_bytes.size() >= 12) {
        return 12 + (byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24);
    }
    throw io_error("unsupported .npy version " + std::to_string(major));
}

/// Parses a complete .npy prefix (as measured by npy_prefix_length).
inline npy_header parse_npy_prefix(std::string_view prefix) {
    const std::size_t start = static_cast<unsigned char>(prefix[6]) == 1 ? 10 : 12;
    return npy_dict_parser(prefix.substr(start)).parse();
}

} // namespace detail
} // namespace xtnn
