/// @file
/// extent2 and padding2: the (height, width) pairs of convolutions and pooling windows.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>

namespace xtnn {

namespace detail {
/// A non-negative integer as an extent. @throws config_error for a negative one.
template <std::integral I>
std::size_t to_extent(I value, const char* what) {
    if constexpr (std::is_signed_v<I>) {
        if (value < 0) {
            throw config_error(std::string("conv2d: ") + what + " must be >= 0, got " +
                               std::to_string(value));
        }
    }
    return static_cast<std::size_t>(value);
}
} // namespace detail

/// Two extents, (height, width): `3` means (3, 3), `{3, 5}` means height 3, width 5.
/// @ingroup layers
struct extent2 {
    std::size_t height = 1; ///< Along the image's rows.
    std::size_t width = 1;  ///< Along the image's columns.
    extent2() = default;
    /// The same extent both ways.
    template <std::integral I>
    extent2(I both) // NOLINT: implicit by design
        : height(detail::to_extent(both, "an extent")), width(height) {}
    /// (height, width).
    template <std::integral I, std::integral J>
    extent2(I h, J w)
        : height(detail::to_extent(h, "an extent")), width(detail::to_extent(w, "an extent")) {}
};

/// A convolution's zero padding: a number for all sides, `{height, width}`, or PyTorch's
/// `"valid"` (none) and `"same"` (the output has the input's size; stride 1 only; an odd
/// total pads one more at the bottom and right, as PyTorch).
/// @ingroup layers
struct padding2 {
    std::size_t height = 0; ///< Rows of zeros above and below.
    std::size_t width = 0;  ///< Columns of zeros left and right.
    bool same = false;      ///< "same": computed from the kernel and dilation.
    padding2() = default;
    /// The same padding on every side.
    template <std::integral I>
    padding2(I both) // NOLINT: implicit by design
        : height(detail::to_extent(both, "padding")), width(height) {}
    /// (height, width).
    template <std::integral I, std::integral J>
    padding2(I h, J w)
        : height(detail::to_extent(h, "padding")), width(detail::to_extent(w, "padding")) {}
    /// "valid" or "same".
    /// @throws config_error for any other word.
    padding2(const char* mode) { // NOLINT: implicit by design
        const std::string_view m = mode == nullptr ? "" : mode;
        if (m == "same") {
            same = true;
        } else if (m != "valid") {
            throw config_error("conv2d: padding must be a number, {height, width}, \"valid\" or "
                               "\"same\", got \"" +
                               std::string(m) + "\"");
        }
    }
};

namespace detail {
/// A (height, width) pair of a description: a list of two whole numbers >= 0.
inline bool decode_pair(const option_value& value, std::size_t& height, std::size_t& width) {
    const auto* list = std::get_if<std::vector<std::int64_t>>(&value);
    if (list == nullptr || list->size() != 2 || (*list)[0] < 0 || (*list)[1] < 0) {
        return false;
    }
    height = static_cast<std::size_t>((*list)[0]);
    width = static_cast<std::size_t>((*list)[1]);
    return true;
}
} // namespace detail

/// An extent2 in a description: `(height, width)`.
template <>
struct option_codec<extent2> {
    /// `(height, width)`.
    static option_value encode(const extent2& v) {
        return std::vector<std::int64_t>{static_cast<std::int64_t>(v.height),
                                         static_cast<std::int64_t>(v.width)};
    }
    /// Reads a list of two whole numbers >= 0.
    static bool decode(const option_value& value, extent2& v) {
        return detail::decode_pair(value, v.height, v.width);
    }
    /// What an error says was expected.
    static constexpr std::string_view expected = "(height, width), two whole numbers >= 0";
};

/// A padding2 in a description: `(height, width)` or `same`.
template <>
struct option_codec<padding2> {
    /// `same`, or `(height, width)`.
    static option_value encode(const padding2& v) {
        if (v.same) {
            return std::string("same");
        }
        return std::vector<std::int64_t>{static_cast<std::int64_t>(v.height),
                                         static_cast<std::int64_t>(v.width)};
    }
    /// Reads `same`, `valid` or a list of two whole numbers >= 0.
    static bool decode(const option_value& value, padding2& v) {
        if (const auto* word = std::get_if<std::string>(&value)) {
            if (*word != "same" && *word != "valid") {
                return false;
            }
            v = padding2(word->c_str());
            return true;
        }
        v = padding2{};
        return detail::decode_pair(value, v.height, v.width);
    }
    /// What an error says was expected.
    static constexpr std::string_view expected =
        "(height, width), two whole numbers >= 0, or same or valid";
};

} // namespace xtnn
