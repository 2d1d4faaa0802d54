/// @file
/// The extension contracts (layer, activation, loss, optimizer) as C++20 concepts, each
/// requirement also checked by a static_assert with one plain sentence.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn {

namespace detail {

template <class L>
concept has_value_type = requires {
    typename L::value_type;
}
&&std::floating_point<typename L::value_type>;

template <class L>
concept has_ranks = requires {
    { L::input_rank } -> std::convertible_to<std::size_t>;
    { L::output_rank } -> std::convertible_to<std::size_t>;
};

template <class L>
concept has_tensor_types = has_value_type<L> && has_ranks<L> && requires {
    typename L::input_type;
    typename L::output_type;
} && std::same_as<typename L::input_type, tensor<typename L::value_type, L::input_rank>> &&
    std::same_as<typename L::output_type, tensor<typename L::value_type, L::output_rank>>;

template <class L>
concept has_output_shape = has_ranks<L> && requires(const L& l, const shape<L::input_rank>& s) {
    { l.output_shape(s) } -> std::same_as<shape<L::output_rank>>;
};

template <class L>
concept has_forward = has_tensor_types<L> &&
    requires(L& l, const typename L::input_type& x, typename L::output_type& y, mode m) {
    l.forward(x, y, m);
};

template <class L>
concept has_backward = has_tensor_types<L> &&
    requires(L& l, const typename L::input_type& x, const typename L::output_type& y,
             const typename L::output_type& dy, typename L::input_type* dx) {
    l.backward(x, y, dy, dx);
};

template <class L>
concept has_parameters = has_value_type<L> && requires(L& l) {
    { l.parameters() } -> std::same_as<std::vector<parameter_view<typename L::value_type>>>;
};

template <class L>
concept has_buffers = has_value_type<L> && requires(L& l) {
    { l.buffers() } -> std::same_as<std::vector<buffer_view<typename L::value_type>>>;
};

/// A layer with `initialize(random_engine&)`, which a model calls when it is (re)seeded.
template <class L>
concept initializable = requires(L& l, random_engine& rng) {
    l.initialize(rng);
};

/// A layer that draws random numbers while training (dropout, augmentation): its engine, which
/// fit's backups save and restore.
template <class L>
concept has_random_stream = requires(L& l) {
    { l.random_stream() } -> std::same_as<random_engine&>;
};

template <class T>
concept has_name = requires {
    { T::name } -> std::convertible_to<std::string_view>;
};

} // namespace detail

/// @defgroup concepts Extension contracts
/// What a type must provide to be a layer, activation, loss or optimizer.
/// See docs/extending.md for a walk-through.

/// A layer: a differentiable map from a rank-`input_rank` tensor to a rank-`output_rank` one.
///
/// Requirements (each checked with a sentence by check_layer()):
/// - `value_type`, a floating-point scalar; `input_rank` and `output_rank` constants;
///   `input_type` = `tensor<value_type, input_rank>`, `output_type` likewise;
/// - `output_shape(shape<input_rank>) const -> shape<output_rank>`, throwing shape_error for
///   an impossible input shape (the first extent is the batch);
/// - `forward(x, y, mode)`: writes the output into `y`, already sized by output_shape();
/// - `backward(x, y, dy, dx)`: given the forward's `x` and `y` and d(loss)/dy, *writes* (not
///   adds) every parameter gradient and, when `dx` is not null, d(loss)/dx into `*dx`.
///   Written, not added, is one rule for the whole library: nothing needs clearing before a
///   step, and a block that sums paths (a residual) adds its skip itself. check_gradients
///   enforces it by filling the gradients with NaN before backward;
/// - `parameters() -> std::vector<parameter_view<value_type>>`, empty if it has none;
/// - `static constexpr std::string_view name`;
/// - optionally `buffers() -> std::vector<buffer_view<value_type>>`: state that is not
///   trained (batch norm's running statistics), saved and restored with the parameters;
/// - optionally `random_stream() -> random_engine&`: the engine of a layer that draws while
///   training (dropout, augmentation), which fit's backups save so that a resumed run draws
///   what an uninterrupted one would.
///
/// xtnn::layer_base provides the types, forward and backward (with their shape checks) for a
/// layer that writes its maths as `compute_forward` and `compute_backward`: every built-in
/// layer does, and sequential then checks shapes once per input shape, not at every step.
/// @ingroup concepts
template <class L>
concept layer =
    detail::has_tensor_types<L> && detail::has_output_shape<L> && detail::has_forward<L> &&
    detail::has_backward<L> && detail::has_parameters<L> && detail::has_name<L>;

/// Checks every layer requirement with its own static_assert, so a failure names what to add.
/// @return true, so it can be used in `static_assert(check_layer<L>())`.
/// @ingroup concepts
template <class L>
consteval bool check_layer() {
    static_assert(detail::has_value_type<L>,
                  "xtnn: a layer needs a floating-point `using value_type = ...;`");
    static_assert(detail::has_ranks<L>, "xtnn: a layer needs `static constexpr std::size_t "
                                        "input_rank` and `output_rank`");
    static_assert(detail::has_tensor_types<L>,
                  "xtnn: a layer needs `input_type` and `output_type` equal to "
                  "xtnn::tensor<value_type, input_rank> and <value_type, output_rank>");
    static_assert(detail::has_output_shape<L>,
                  "xtnn: a layer needs `shape<output_rank> output_shape(const "
                  "shape<input_rank>&) const`; see docs/extending.md#layers");
    static_assert(detail::has_forward<L>,
                  "xtnn: a layer needs `void forward(const input_type&, output_type&, mode)`; "
                  "see docs/extending.md#layers");
    static_assert(detail::has_backward<L>,
                  "xtnn: a layer needs `void backward(const input_type& x, const output_type& y, "
                  "const output_type& dy, input_type* dx)`; see docs/extending.md#layers");
    static_assert(detail::has_parameters<L>,
                  "xtnn: a layer needs `std::vector<parameter_view<value_type>> parameters()` "
                  "(return {} when it has none)");
    static_assert(detail::has_name<L>,
                  "xtnn: a layer needs `static constexpr std::string_view name`");
    return true;
}

/// What elementwise code computes on: a floating-point scalar, or an xsimd batch of them.
///
/// An activation whose `value` and `derivative` take any `real_value` (as the built-in ones
/// do) is run by activation_layer a whole SIMD register at a time. In such code `V(1)`
/// broadcasts a constant, and after `using std::exp;` a call `exp(x)` finds xsimd's `exp` for
/// batches; a branch on x becomes `xsimd::select` (see docs/extending.md).
/// @ingroup concepts
template <class V>
concept real_value = std::floating_point<V> ||
    (xsimd::is_batch<V>::value&& std::floating_point<detail::scalar_t<V>>);

/// An elementwise activation: `y = value(x)` and `dy/dx = derivative(x, y)`.
///
/// It must work for float and double (usually a member template), be callable on a const
/// object, and have a `name`. Written for any xtnn::real_value, it also runs on SIMD batches.
/// activation_layer turns it into a layer, and sequential does so by itself:
/// `xtnn::sequential{xtnn::dense{4, 8}, xtnn::relu{}}`.
/// @ingroup concepts
template <class A>
concept activation = detail::has_name<A> && requires(const A& a, float f, double d) {
    { a.value(f) } -> std::same_as<float>;
    { a.derivative(f, f) } -> std::same_as<float>;
    { a.value(d) } -> std::same_as<double>;
    { a.derivative(d, d) } -> std::same_as<double>;
};

/// Checks every activation requirement with its own static_assert.
/// @ingroup concepts
template <class A>
consteval bool check_activation() {
    static_assert(
        requires(const A& a, float f, double d) {
            { a.value(f) } -> std::same_as<float>;
            { a.value(d) } -> std::same_as<double>;
        },
        "xtnn: an activation needs `T value(T x) const` for float and double");
    static_assert(
        requires(const A& a, float f, double d) {
            { a.derivative(f, f) } -> std::same_as<float>;
            { a.derivative(d, d) } -> std::same_as<double>;
        },
        "xtnn: an activation needs `T derivative(T x, T y) const` (dy/dx at x, where y = "
        "value(x)) for float and double");
    static_assert(detail::has_name<A>,
                  "xtnn: an activation needs `static constexpr std::string_view name`");
    return true;
}

/// A loss for predictions `P` (a tensor) and targets `Y`: the batch mean and its gradient.
///
/// - `value(prediction, target) const -> value_type`: the mean loss over the batch;
/// - `value_and_gradient(prediction, target, gradient) const -> value_type`: the same value,
///   and d(mean loss)/d(prediction) written into `gradient` (resized to the prediction's
///   shape; no allocation when it already has it);
/// - `name`. Both throw shape_error when prediction and target do not fit.
/// @ingroup concepts
template <class Loss, class P, class Y>
concept loss = detail::has_name<Loss> && requires(const Loss& l, const P& p, const Y& y, P& g) {
    { l.value(p, y) } -> std::same_as<typename P::value_type>;
    { l.value_and_gradient(p, y, g) } -> std::same_as<typename P::value_type>;
};

/// A loss that also takes per-sample weights (fit's and evaluate's `class_weight` and
/// `sample_weight` need one): `value(p, y, w)` and `value_and_gradient(p, y, g, w)` with `w` a
/// `std::span<const value_type>` of one weight ≥ 0 per row, giving the weighted mean
/// `Σ w_r ℓ_r / Σ w_r` of the per-sample losses ℓ_r (0 when every weight is 0), and its gradient.
/// Every built-in loss is one.
/// @ingroup concepts
template <class Loss, class P, class Y>
concept weighted_loss = loss<Loss, P, Y> && requires(const Loss& l, const P& p, const Y& y, P& g,
                                                     std::span<const typename P::value_type> w) {
    { l.value(p, y, w) } -> std::same_as<typename P::value_type>;
    { l.value_and_gradient(p, y, g, w) } -> std::same_as<typename P::value_type>;
};

/// An optimizer: updates parameters in place from their gradients, once per batch.
///
/// - `value_type`; `step(std::span<parameter_view<value_type>>)`: one update; per-parameter
///   state is indexed by position in the span and sized on the first step;
/// - `learning_rate() const`, `set_learning_rate(double)` (for schedules), `iterations() const`
///   (the number of steps taken, advanced once per step); `name`.
/// @ingroup concepts
template <class O>
concept optimizer = detail::has_value_type<O> && detail::has_name<O> &&
    requires(O& o, const O& co, std::span<parameter_view<typename O::value_type>> p, double r) {
    o.step(p);
    { co.learning_rate() } -> std::convertible_to<double>;
    o.set_learning_rate(r);
    { co.iterations() } -> std::convertible_to<std::size_t>;
};

/// Runs one layer on one input and returns a new output tensor (allocates; for tests and
/// one-off use, not for hot loops, where sequential owns the buffers).
/// @throws shape_error if the layer rejects the input shape.
/// @ingroup concepts
template <layer L>
typename L::output_type apply(L& l, const typename L::input_type& x, mode m = mode::inference) {
    typename L::output_type y(l.output_shape(x.shape()));
    l.forward(x, y, m);
    return y;
}

/// @cond XTNN_DETAIL
// Any other input: xtensor would convert it implicitly (another rank corrupts memory), so this
// exact match wins and names what the layer takes.
template <layer L, class X>
requires(!std::same_as<X, typename L::input_type>) detail::rejected
    apply(L&, const X&, mode = mode::inference) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: apply: the layer takes", "input", input, X,
                               typename L::value_type, L::input_rank);
    return {};
}
/// @endcond

} // namespace xtnn
