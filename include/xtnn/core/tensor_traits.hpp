/// @file
/// Compile-time checks that an argument is exactly the xtnn::tensor an entry point takes.
///
/// xtensor's containers convert implicitly from any expression, so a `const tensor<float, 2>&`
/// parameter alone also accepts a rank-3 tensor: xtensor then copies a 3-extent shape into a
/// 2-extent array and corrupts memory. Every public entry point of xtnn therefore comes in
/// two overloads. The real one takes exactly its types and reads plainly. Its sibling, a
/// template constrained to every other type, is an exact match for those, so it wins over the
/// conversion; it returns detail::rejected and holds the checks (XTNN_DETAIL_REQUIRE_TENSOR),
/// which reject another rank, another scalar type and any non-tensor type at compile time with
/// one sentence:
///
///     xtnn: predict: the model takes rank-2 input (batch, features); got a rank-3 tensor
///
/// @code
/// template <class Model>
/// typename Model::output_type predict(Model& model, const typename Model::input_type& x);
/// template <class Model, class X>
///     requires(!std::same_as<X, typename Model::input_type>)
/// detail::rejected predict(Model&, const X&) { XTNN_DETAIL_REQUIRE_TENSOR(...); return {}; }
/// @endcode
///
/// Give the sibling every parameter of the real overload that is not a tensor, with the same
/// type (a braced `{}` argument deduces nothing), so that it is viable wherever the real one
/// is.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xtnn/core/tensor.hpp>

namespace xtnn {

namespace detail {

template <class X>
struct tensor_traits {
    static constexpr bool is_tensor = false;
    static constexpr std::size_t rank = 0;
    using value_type = void;
};
template <class T, std::size_t N>
struct tensor_traits<tensor<T, N>> {
    static constexpr bool is_tensor = true;
    static constexpr std::size_t rank = N;
    using value_type = T;
};

} // namespace detail

/// Satisfied by exactly the xtnn::tensor types (`xt::xtensor<T, N>`, row-major, default
/// allocator): not by views, lazy expressions, `xt::xarray` or other layouts.
/// @ingroup core
template <class X>
concept any_tensor = detail::tensor_traits<std::remove_cvref_t<X>>::is_tensor;

/// The rank of an xtnn::tensor type (0 for any other type).
/// @ingroup core
template <class X>
inline constexpr std::size_t rank_of = detail::tensor_traits<std::remove_cvref_t<X>>::rank;

/// The element type of an xtnn::tensor type (void for any other type).
/// @ingroup core
template <class X>
using element_of = typename detail::tensor_traits<std::remove_cvref_t<X>>::value_type;

/// Satisfied by exactly `xtnn::tensor<T, N>`.
/// @ingroup core
template <class X, class T, std::size_t N>
concept tensor_of = any_tensor<X> && rank_of<X>
== N&& std::same_as<element_of<X>, T>;

namespace detail {

// The conditions of the checks below, as named constants, so that a compiler that prints the
// failed condition prints a short one.
template <class X, std::size_t N, std::size_t Also>
inline constexpr std::size_t given_rank = !any_tensor<X> || rank_of<X> == Also ? N : rank_of<X>;
template <std::size_t E, std::size_t G, std::size_t Case, std::size_t Given>
inline constexpr bool not_rank_case = E != Case || G != Given || Case == Given;
template <std::size_t E, std::size_t G>
inline constexpr bool rank_listed_or_equal = E == G || (E >= 1 && E <= 5 && G <= 7);
template <class X, class Expected, class Listed>
inline constexpr bool element_listed =
    !any_tensor<X> || !std::same_as<Expected, Listed> || std::same_as<element_of<X>, Listed>;
template <class X, class Expected>
inline constexpr bool element_is =
    !any_tensor<X> || std::same_as<element_of<X>, Expected> || std::same_as<Expected, float> ||
    std::same_as<Expected, double> || std::same_as<Expected, std::uint8_t>; // said above

/// What the fallback overloads of losses and metrics return: they exist only to say, at compile
/// time, what the arguments should have been, so a concept that checks the real overloads'
/// return types sees through them.
struct rejected {};

} // namespace detail

} // namespace xtnn

/// @cond XTNN_DETAIL
// How each rank reads in a sentence, by the kind of tensor.
#define XTNN_DETAIL_SHAPE_input_1 " (batch)"
#define XTNN_DETAIL_SHAPE_input_2 " (batch, features)"
#define XTNN_DETAIL_SHAPE_input_3 " (batch, channels, length)"
#define XTNN_DETAIL_SHAPE_input_4 " (batch, channels, height, width)"
#define XTNN_DETAIL_SHAPE_input_5 " (batch, channels, depth, height, width)"
#define XTNN_DETAIL_SHAPE_output_1 " (batch)"
#define XTNN_DETAIL_SHAPE_output_2 " (batch, outputs)"
#define XTNN_DETAIL_SHAPE_output_3 " (batch, channels, length)"
#define XTNN_DETAIL_SHAPE_output_4 " (batch, channels, height, width)"
#define XTNN_DETAIL_SHAPE_output_5 " (batch, channels, depth, height, width)"
#define XTNN_DETAIL_SHAPE_images_1 ""
#define XTNN_DETAIL_SHAPE_images_2 ""
#define XTNN_DETAIL_SHAPE_images_3 " (images, rows, columns)"
#define XTNN_DETAIL_SHAPE_images_4 ""
#define XTNN_DETAIL_SHAPE_images_5 ""
#define XTNN_DETAIL_SHAPE_pixels_1 ""
#define XTNN_DETAIL_SHAPE_pixels_2 " (height, width)"
#define XTNN_DETAIL_SHAPE_pixels_3 " (height, width, channels)"
#define XTNN_DETAIL_SHAPE_pixels_4 ""
#define XTNN_DETAIL_SHAPE_pixels_5 ""

// One sentence for expected rank e and given rank g (none when e == g).
#define XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, g)                                      \
    static_assert(::xtnn::detail::not_rank_case<(E), (G), e, g>,                                   \
                  PREFIX " rank-" #e " " NOUN XTNN_DETAIL_SHAPE_##KIND##_##e "; got a rank-" #g    \
                                                                             " tensor");
#define XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, e)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 0)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 1)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 2)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 3)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 4)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 5)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 6)                                          \
    XTNN_DETAIL_RANK_CASE(PREFIX, NOUN, KIND, E, G, e, 7)

/// Rejects rank G where rank E is taken, with the sentence
/// `PREFIX rank-E NOUN (shape); got a rank-G tensor`. PREFIX and NOUN are string literals
/// ("xtnn: predict: the model takes", "input"); KIND picks the shape words (input, output,
/// images, pixels); E and G are constant expressions.
#define XTNN_DETAIL_REQUIRE_RANK(PREFIX, NOUN, KIND, E, G)                                         \
    XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, 1)                                              \
    XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, 2)                                              \
    XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, 3)                                              \
    XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, 4)                                              \
    XTNN_DETAIL_RANK_ROW(PREFIX, NOUN, KIND, E, G, 5)                                              \
    static_assert(::xtnn::detail::rank_listed_or_equal<(E), (G)>,                                  \
                  PREFIX " " NOUN " of another rank than the one given");

/// Requires X to be xtnn::tensor<T, N>: a sentence for a non-tensor type, for another rank
/// (ranks listed in ALSO_RANK are accepted as N, for a single-sample form) and for another
/// scalar type.
#define XTNN_DETAIL_REQUIRE_TENSOR_OR(PREFIX, NOUN, KIND, X, T, N, ALSO_RANK)                      \
    static_assert(::xtnn::any_tensor<X>,                                                           \
                  PREFIX " " NOUN " as an xtnn::tensor (an xt::xtensor of fixed rank); got "       \
                         "another type: evaluate views, expressions and xt::xarray into an "       \
                         "xtnn::tensor first");                                                    \
    XTNN_DETAIL_REQUIRE_RANK(PREFIX, NOUN, KIND, (N),                                              \
                             (::xtnn::detail::given_rank<X, (N), (ALSO_RANK)>))                    \
    static_assert(::xtnn::detail::element_listed<X, T, float>,                                     \
                  PREFIX " " NOUN " of floats; got a tensor of another element type: convert "     \
                         "it once, e.g. xtnn::tensor<float, N> y = xt::cast<float>(x)");           \
    static_assert(::xtnn::detail::element_listed<X, T, double>,                                    \
                  PREFIX " " NOUN " of doubles; got a tensor of another element type: "            \
                         "convert it once, e.g. xtnn::tensor<double, N> y = "                      \
                         "xt::cast<double>(x)");                                                   \
    static_assert(::xtnn::detail::element_listed<X, T, std::uint8_t>,                              \
                  PREFIX " " NOUN " of bytes (std::uint8_t); got a tensor of another element "     \
                         "type");                                                                  \
    static_assert(::xtnn::detail::element_is<X, T>,                                                \
                  PREFIX " " NOUN " of another element type than the one given")

/// Requires X to be exactly xtnn::tensor<T, N> (see XTNN_DETAIL_REQUIRE_TENSOR_OR).
#define XTNN_DETAIL_REQUIRE_TENSOR(PREFIX, NOUN, KIND, X, T, N)                                    \
    XTNN_DETAIL_REQUIRE_TENSOR_OR(PREFIX, NOUN, KIND, X, T, N, (N))
/// @endcond
