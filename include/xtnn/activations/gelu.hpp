/// @file
/// The Gaussian error linear unit.
#pragma once

#include <cmath>
#include <numbers>
#include <string>
#include <string_view>
#include <tuple>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/description.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn {

/// Gaussian error linear unit: `y = x Φ(x)`, Φ the standard normal CDF.
///
/// Exact form (PyTorch's default): Φ(x) = (1 + erf(x / √2)) / 2, derivative
/// `Φ(x) + x φ(x)` with φ the normal density. With `approximate = true`, the tanh form
/// `x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))` and its exact derivative.
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::gelu{}};
/// @endcode
/// @ingroup activations
struct gelu {
    static constexpr std::string_view name = "gelu"; ///< The name in summaries.
    bool approximate = false;                        ///< Use the tanh approximation.
    /// `gelu(approximate=…)`: what a weight file records (layer_description).
    static constexpr auto fields() { return std::tuple{field("approximate", &gelu::approximate)}; }

    /// x Φ(x).
    template <real_value V>
    V value(V x) const {
        using std::erf;
        using std::tanh;
        if (approximate) {
            return V(0.5) * x * (V(1) + tanh(inner(x)));
        }
        return V(0.5) * x * (V(1) + erf(x * detail::constant<V>(std::numbers::sqrt2 / 2)));
    }
    /// Φ(x) + x φ(x) (or the derivative of the tanh form).
    template <real_value V>
    V derivative(V x, V /*y*/) const {
        using std::erf;
        using std::exp;
        using std::tanh;
        if (approximate) {
            const V t = tanh(inner(x));
            const V d_inner = k0<V>() * (V(1) + V(3) * k1<V>() * x * x);
            return V(0.5) * (V(1) + t) + V(0.5) * x * (V(1) - t * t) * d_inner;
        }
        const V cdf = V(0.5) * (V(1) + erf(x * detail::constant<V>(std::numbers::sqrt2 / 2)));
        const V pdf = exp(V(-0.5) * x * x) *
                      detail::constant<V>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
        return cdf + x * pdf;
    }

  private:
    template <class V>
    static V k0() {
        return detail::constant<V>(std::numbers::sqrt2 * std::numbers::inv_sqrtpi); // √(2/π)
    }
    template <class V>
    static V k1() {
        return detail::constant<V>(0.044715);
    }
    template <class V>
    static V inner(V x) {
        return k0<V>() * (x + k1<V>() * x * x * x);
    }
};

} // namespace xtnn
