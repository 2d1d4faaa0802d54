/// @file
/// The Gaussian error linear unit.
#pragma once

#include <cmath>
#include <concepts>
#include <numbers>
#include <string_view>

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

    /// x Φ(x).
    template <std::floating_point T>
    T value(T x) const {
        if (approximate) {
            return T(0.5) * x * (T(1) + std::tanh(inner(x)));
        }
        return T(0.5) * x * (T(1) + std::erf(x * static_cast<T>(std::numbers::sqrt2 / 2)));
    }
    /// Φ(x) + x φ(x) (or the derivative of the tanh form).
    template <std::floating_point T>
    T derivative(T x, T /*y*/) const {
        if (approximate) {
            const T t = std::tanh(inner(x));
            const T d_inner = k0<T>() * (T(1) + T(3) * k1<T>() * x * x);
            return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * d_inner;
        }
        const T cdf = T(0.5) * (T(1) + std::erf(x * static_cast<T>(std::numbers::sqrt2 / 2)));
        const T pdf = std::exp(T(-0.5) * x * x) *
                      static_cast<T>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
        return cdf + x * pdf;
    }

  private:
    template <std::floating_point T>
    static constexpr T k0() {
        return static_cast<T>(std::numbers::sqrt2 * std::numbers::inv_sqrtpi); // √(2/π)
    }
    template <std::floating_point T>
    static constexpr T k1() {
        return static_cast<T>(0.044715);
    }
    template <std::floating_point T>
    static T inner(T x) {
        return k0<T>() * (x + k1<T>() * x * x * x);
    }
};

} // namespace xtnn
