/// @file
/// Tensor and shape aliases over xtensor, and the one helper that prints shapes.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>

#include <xtensor/xtensor.hpp>

/// @brief Everything public in xtnn lives in this one flat namespace.
namespace xtnn {

/// @defgroup core Core
/// Tensor aliases, errors, concepts, parameters, random numbers and BLAS.

/// A dense, row-major tensor of fixed rank `N`: the storage type of every layer.
/// @ingroup core
template <class T, std::size_t N>
using tensor = xt::xtensor<T, N>;

/// A shape of fixed rank `N`, batch first: `(batch, features)` or
/// `(batch, channels, height, width)`.
/// @ingroup core
template <std::size_t N>
using shape = std::array<std::size_t, N>;

/// Whether a layer runs for training (dropout active, caches kept) or for inference.
/// @ingroup core
enum class mode {
    inference, ///< Deterministic evaluation: dropout is the identity.
    training   ///< Training: dropout draws masks; backward may follow.
};

/// Formats a shape as `(32, 784)`: the one format every error message uses.
/// @ingroup core
inline std::string format_shape(std::span<const std::size_t> extents) {
    std::string out = "(";
    for (std::size_t i = 0; i < extents.size(); ++i) {
        if (i != 0) {
            out += ", ";
        }
        out += std::to_string(extents[i]);
    }
    if (extents.size() == 1) {
        out += ",";
    }
    out += ")";
    return out;
}

/// Formats any shape-like range (std::array, xtensor shapes, std::vector) as `(32, 784)`.
/// @ingroup core
template <class Shape>
requires requires(const Shape& s) {
    { s.size() } -> std::convertible_to<std::size_t>;
    { s.data() } -> std::convertible_to<const std::size_t*>;
}
std::string format_shape(const Shape& s) {
    return format_shape(std::span<const std::size_t>(s.data(), s.size()));
}

/// The number of elements of a shape (the product of its extents).
/// @ingroup core
template <std::size_t N>
constexpr std::size_t size_of(const shape<N>& s) {
    std::size_t n = 1;
    for (std::size_t e : s) {
        n *= e;
    }
    return n;
}

} // namespace xtnn
