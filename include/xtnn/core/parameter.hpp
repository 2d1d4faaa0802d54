/// @file
/// Named views of a layer's trainable values and their gradients.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace xtnn {

/// A trainable tensor seen as flat memory: its name, values, gradient and shape.
///
/// Views point into the layer that owns the tensors; they stay valid while that layer lives and
/// is not moved or copied. Names follow PyTorch's state dict: a layer names its own parameters
/// ("weight", "bias") and `sequential` prefixes the layer index ("0.weight", "2.bias").
///
/// @code
/// for (auto& p : model.parameters())
///     std::cout << p.name << " " << xtnn::format_shape(p.shape) << "\n";
/// @endcode
/// @tparam T the scalar type.
/// @ingroup core
template <std::floating_point T>
struct parameter_view {
    std::string name;               ///< "weight", or "0.weight" once a model prefixes it.
    std::span<T> value;             ///< The values, row-major.
    std::span<T> gradient;          ///< d(loss)/d(value), same layout, written by backward.
    std::vector<std::size_t> shape; ///< The tensor's shape, e.g. (out, in) for a dense weight.
};

/// The total number of trainable values in a list of parameter views.
/// @ingroup core
template <std::floating_point T>
std::size_t count_values(std::span<const parameter_view<T>> parameters) {
    std::size_t n = 0;
    for (const auto& p : parameters) {
        n += p.value.size();
    }
    return n;
}

} // namespace xtnn
