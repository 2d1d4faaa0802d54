/// @file
/// `initializer`: any one of xtnn's initializers, held by value in layer options.
#pragma once

#include <concepts>
#include <span>
#include <string_view>
#include <variant>

#include <xtnn/core/random.hpp>
#include <xtnn/init/constant.hpp>
#include <xtnn/init/fans.hpp>
#include <xtnn/init/glorot.hpp>
#include <xtnn/init/he.hpp>
#include <xtnn/init/lecun.hpp>

namespace xtnn {

/// Any initializer, chosen at run time: what layer options hold.
///
/// @code
/// xtnn::initializer init = xtnn::he_normal{};
/// xtnn::fill(init, std::span(w.data(), w.size()), {784, 128}, rng);
/// @endcode
/// @ingroup init
using initializer = std::variant<glorot_uniform, glorot_normal, he_uniform, he_normal,
                                 lecun_uniform, lecun_normal, zeros, constant>;

/// Fills `values` with the initializer held in `init`.
/// @ingroup init
template <std::floating_point T>
void fill(const initializer& init, std::span<T> values, fans f, random_engine& rng) {
    std::visit([&](const auto& i) { i.fill(values, f, rng); }, init);
}

/// The name of the initializer held in `init`, e.g. "glorot_uniform".
/// @ingroup init
inline std::string_view name_of(const initializer& init) {
    return std::visit([](const auto& i) { return std::string_view(i.name); }, init);
}

} // namespace xtnn
