/// @file
/// Named views of a layer's trainable values and their gradients, and of its state that is
/// not trained (buffers).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
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

/// A tensor a layer keeps but does not train, seen as flat memory: its name, values and shape.
///
/// Batch norm's running mean and variance are buffers of the model's scalar type; PyTorch's
/// `num_batches_tracked` is a buffer of `std::int64_t`. Like parameters, buffers are named as
/// in PyTorch's state dict ("1.running_mean") and saved, loaded, checkpointed and restored by
/// early stopping with the parameters; unlike them they have no gradient, no optimizer sees
/// them, and the summary counts them apart. Views stay valid while the owning layer lives and
/// is not moved or copied.
/// @tparam T the model's scalar type.
/// @ingroup core
template <std::floating_point T>
struct buffer_view {
    std::string name; ///< "running_mean", or "1.running_mean" once a model prefixes it.
    std::variant<std::span<T>, std::span<std::int64_t>> value; ///< The values, row-major.
    std::vector<std::size_t> shape;                            ///< The tensor's shape.

    /// The number of values.
    std::size_t size() const {
        return std::visit([](const auto& v) { return v.size(); }, value);
    }
};

} // namespace xtnn
