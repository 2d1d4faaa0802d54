/// @file
/// Numerical gradient checking for layers, models and losses: test your own types with it.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn {

/// @defgroup testing Testing
/// Helpers for testing layers, losses and models, including your own.

/// Options of check_gradients() and check_loss_gradient().
/// @ingroup testing
struct gradient_check_options {
    double epsilon = 1e-6;   ///< Central-difference step h: f'(v) ≈ (f(v+h) - f(v-h)) / 2h.
    double tolerance = 1e-6; ///< The largest error accepted (see gradient_check_result).
    std::uint64_t seed = 1;  ///< Seed of the random output projection.
    mode forward_mode = mode::training; ///< The mode of every forward the check runs.
};

/// The outcome of a gradient check: the largest error and where it was.
///
/// The error of one value is `|analytic - numeric| / max(1, |analytic|, |numeric|)`: relative
/// for large gradients, absolute for small ones, so zeros compare sensibly.
/// @ingroup testing
struct gradient_check_result {
    bool passed = true;      ///< max_error ≤ tolerance.
    double max_error = 0.0;  ///< The largest error over all values checked.
    std::string worst;       ///< Where it was: "input[3]", "weight[12]", "prediction[0]"...
    double analytic = 0.0;   ///< The analytic gradient there.
    double numeric = 0.0;    ///< The numeric gradient there.
    std::size_t checked = 0; ///< How many values were checked.

    /// One line for test output: "gradient check passed/failed: max error … at … (analytic …,
    /// numeric …) over N values".
    std::string message() const {
        return std::string("gradient check ") + (passed ? "passed" : "failed") + ": max error " +
               detail::format_number(max_error) + " at " + (worst.empty() ? "-" : worst) +
               " (analytic " + detail::format_number(analytic) + ", numeric " +
               detail::format_number(numeric) + ") over " + std::to_string(checked) + " values";
    }
};

namespace detail {

inline void record_gradient(gradient_check_result& r, const std::string& where, double analytic,
                            double numeric, double tolerance) {
    const double scale = std::max({1.0, std::abs(analytic), std::abs(numeric)});
    double error = std::abs(analytic - numeric) / scale;
    if (std::isnan(error)) {
        error = INFINITY; // a NaN gradient is the worst possible
    }
    ++r.checked;
    if (r.checked == 1 || error > r.max_error) {
        r.max_error = error;
        r.worst = where;
        r.analytic = analytic;
        r.numeric = numeric;
    }
    r.passed = r.max_error <= tolerance;
}

} // namespace detail

namespace detail {

/// check_gradients for an input of the layer's exact input type.
template <layer L>
gradient_check_result check_layer_gradients(L& layer, const typename L::input_type& x,
                                            const gradient_check_options& options) {
    using input_type = typename L::input_type;
    using output_type = typename L::output_type;
    output_type y(layer.output_shape(x.shape()));
    output_type projection(y.shape());
    random_engine rng(options.seed);
    for (auto& v : projection) {
        v = rng.uniform(-1.0, 1.0);
    }

    auto objective = [&](const input_type& input) {
        layer.forward(input, y, options.forward_mode);
        double total = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            total += y.data()[i] * projection.data()[i];
        }
        return total;
    };

    // The forwards below update buffers (running statistics) in training mode: restore them.
    std::vector<std::vector<std::byte>> saved_buffers;
    if constexpr (detail::has_buffers<L>) {
        for (const auto& b : layer.buffers()) {
            std::visit(
                [&saved_buffers](auto v) {
                    const auto bytes = std::as_bytes(v);
                    saved_buffers.emplace_back(bytes.begin(), bytes.end());
                },
                b.value);
        }
    }

    objective(x);
    // backward writes (never adds) the input and parameter gradients: poison them first, so
    // that a layer which adds, or leaves a value unwritten, fails the check.
    auto params = layer.parameters();
    constexpr double poison = std::numeric_limits<double>::quiet_NaN();
    input_type dx(x.shape());
    dx.fill(poison);
    for (auto& p : params) {
        std::fill(p.gradient.begin(), p.gradient.end(), poison);
    }
    layer.backward(x, y, projection, &dx);
    std::vector<std::vector<double>> analytic;
    for (const auto& p : params) {
        analytic.emplace_back(p.gradient.begin(), p.gradient.end());
    }

    gradient_check_result result;
    const double h = options.epsilon;
    input_type probe = x;
    for (std::size_t i = 0; i < probe.size(); ++i) {
        const double saved = probe.data()[i];
        probe.data()[i] = saved + h;
        const double plus = objective(probe);
        probe.data()[i] = saved - h;
        const double minus = objective(probe);
        probe.data()[i] = saved;
        detail::record_gradient(result, "input[" + std::to_string(i) + "]", dx.data()[i],
                                (plus - minus) / (2 * h), options.tolerance);
    }
    for (std::size_t k = 0; k < params.size(); ++k) {
        auto& value = params[k].value;
        for (std::size_t i = 0; i < value.size(); ++i) {
            const double saved = value[i];
            value[i] = saved + h;
            const double plus = objective(x);
            value[i] = saved - h;
            const double minus = objective(x);
            value[i] = saved;
            detail::record_gradient(result, params[k].name + "[" + std::to_string(i) + "]",
                                    analytic[k][i], (plus - minus) / (2 * h), options.tolerance);
        }
    }
    if constexpr (detail::has_buffers<L>) {
        std::size_t k = 0;
        for (const auto& b : layer.buffers()) {
            std::visit(
                [&](auto v) {
                    std::copy(saved_buffers[k].begin(), saved_buffers[k].end(),
                              std::as_writable_bytes(v).begin());
                },
                b.value);
            ++k;
        }
    }
    return result;
}

} // namespace detail

/// Checks a layer's (or model's) backward against central differences, in double precision.
///
/// With a fixed random projection r (uniform in [-1, 1], one value per output element), the
/// check takes the scalar `L(x, θ) = Σ forward(x)ᵢ rᵢ`, so `dL/dy = r`, runs backward once, and
/// compares d(L)/dx and every parameter gradient with `(L(v+h) - L(v-h)) / 2h` for each value v
/// of the input and of each parameter. The layer must be deterministic across forwards in
/// `forward_mode` (use inference mode for dropout). Parameters and buffers are restored
/// exactly.
///
/// The check also enforces the layer contract that backward *writes* the input gradient and
/// every parameter gradient (see xtnn::layer): it fills them with NaN before backward, so a
/// layer that adds to them, or leaves a value unwritten, fails.
///
/// @tparam L a layer (or a sequential) with `value_type` double.
/// @return the largest error and where; `passed` compares it with the tolerance.
/// @code
/// xtnn::dense<double> layer(3, 2);
/// auto result = xtnn::check_gradients(layer, x);
/// REQUIRE(result.passed);   // INFO(result.message()) shows where it failed
/// @endcode
/// @ingroup testing
template <layer L>
requires std::same_as<typename L::value_type, double> gradient_check_result
check_gradients(L& layer, const typename L::input_type& x, gradient_check_options options = {}) {
    return detail::check_layer_gradients(layer, x, options);
}

/// @cond XTNN_DETAIL
// Any other input: one sentence naming what the layer takes (see xtnn::apply).
template <layer L, class X>
requires std::same_as<typename L::value_type, double> &&
    (!std::same_as<X, typename L::input_type>)detail::rejected
    check_gradients(L&, const X&, gradient_check_options = {}) {
    XTNN_DETAIL_REQUIRE_TENSOR("xtnn: check_gradients: the layer takes", "input", input, X, double,
                               L::input_rank);
    return {};
}
/// @endcond

/// Checks a loss's gradient against central differences of its value, in double precision.
///
/// Compares `value_and_gradient(prediction, target, g)` with `(value(p+h) - value(p-h)) / 2h`
/// for every element of the prediction.
/// @tparam Loss an xtnn::loss for these prediction and target types.
/// @code
/// auto result = xtnn::check_loss_gradient(xtnn::huber{}, prediction, target);
/// REQUIRE(result.passed);
/// @endcode
/// @ingroup testing
template <class Loss, std::size_t N, class Target>
requires loss<Loss, tensor<double, N>, Target>
    gradient_check_result check_loss_gradient(const Loss& l, const tensor<double, N>& prediction,
                                              const Target& target,
                                              gradient_check_options options = {}) {
    tensor<double, N> gradient;
    l.value_and_gradient(prediction, target, gradient);
    gradient_check_result result;
    const double h = options.epsilon;
    tensor<double, N> probe = prediction;
    for (std::size_t i = 0; i < probe.size(); ++i) {
        const double saved = probe.data()[i];
        probe.data()[i] = saved + h;
        const double plus = l.value(probe, target);
        probe.data()[i] = saved - h;
        const double minus = l.value(probe, target);
        probe.data()[i] = saved;
        detail::record_gradient(result, "prediction[" + std::to_string(i) + "]", gradient.data()[i],
                                (plus - minus) / (2 * h), options.tolerance);
    }
    return result;
}

} // namespace xtnn
