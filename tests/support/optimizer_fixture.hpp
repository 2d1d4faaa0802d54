// A tiny problem for optimizer tests: parameters with hand-set gradients, and a quadratic.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <xtnn/core/parameter.hpp>

namespace xtnn::test {

/// One parameter vector with a gradient the test sets by hand.
template <class T>
struct hand_parameter {
    std::vector<T> value;
    std::vector<T> gradient;
    std::vector<parameter_view<T>> views;

    explicit hand_parameter(std::vector<T> initial)
        : value(std::move(initial)), gradient(value.size(), T(0)) {
        views.push_back({"w", std::span<T>(value), std::span<T>(gradient), {value.size()}});
    }
};

/// Minimizes f(w) = Σ (w_i - c_i)² from w = 0 for `steps` steps; returns the final w.
template <class Optimizer>
std::vector<double> minimize_quadratic(Optimizer& opt, const std::vector<double>& c,
                                       std::size_t steps) {
    hand_parameter<double> p(std::vector<double>(c.size(), 0.0));
    for (std::size_t s = 0; s < steps; ++s) {
        for (std::size_t i = 0; i < c.size(); ++i) {
            p.gradient[i] = 2 * (p.value[i] - c[i]);
        }
        opt.step(p.views);
    }
    return p.value;
}

} // namespace xtnn::test
