// Shared helpers for xtnn's tests: seeded random tensors and tensor comparisons.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/init/fans.hpp>

namespace xtnn::test {

/// A tensor of the given shape with values uniform in [low, high), from `seed`.
template <class T, std::size_t N>
tensor<T, N> random_tensor(const shape<N>& s, std::uint64_t seed, double low = -1.0,
                           double high = 1.0) {
    tensor<T, N> t(s);
    random_engine rng(seed);
    for (auto& v : t) {
        v = static_cast<T>(rng.uniform(low, high));
    }
    return t;
}

/// The largest absolute elementwise difference of two tensors of the same shape.
template <class A, class B>
double max_abs_difference(const A& a, const B& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d =
            std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i]));
        worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    return worst;
}

/// Whether two tensors have the same shape and exactly equal elements. (Catch's CHECK(a == b)
/// cannot decompose xtensor's elementwise comparison operators.)
template <class A, class B>
bool equal(const A& a, const B& b) {
    return a.dimension() == b.dimension() &&
           std::equal(a.shape().begin(), a.shape().end(), b.shape().begin()) &&
           std::equal(a.data(), a.data() + a.size(), b.data());
}

} // namespace xtnn::test

/// Runs a gradient check and reports where it failed.
#define XTNN_REQUIRE_GRADIENTS(result_expression)                                                  \
    do {                                                                                           \
        const auto xtnn_gradient_result = (result_expression);                                     \
        INFO(xtnn_gradient_result.message());                                                      \
        REQUIRE(xtnn_gradient_result.checked > 0);                                                 \
        REQUIRE(xtnn_gradient_result.passed);                                                      \
    } while (false)

namespace xtnn::test {

/// Mean, standard deviation and largest magnitude of some values.
struct value_stats {
    double mean = 0, stddev = 0, max_abs = 0;
};

template <class T>
value_stats stats_of(const std::vector<T>& values) {
    value_stats s;
    double sum = 0, squares = 0;
    for (T v : values) {
        sum += static_cast<double>(v);
        squares += static_cast<double>(v) * static_cast<double>(v);
        s.max_abs = std::max(s.max_abs, std::abs(static_cast<double>(v)));
    }
    const double n = static_cast<double>(values.size());
    s.mean = sum / n;
    s.stddev = std::sqrt(std::max(0.0, squares / n - s.mean * s.mean));
    return s;
}

/// Fills a vector of `n` values with an initializer and returns it.
template <class T, class Init>
std::vector<T> filled(const Init& init, std::size_t n, fans f, std::uint64_t seed) {
    std::vector<T> values(n, T(123));
    random_engine rng(seed);
    init.fill(std::span<T>(values), f, rng);
    return values;
}

} // namespace xtnn::test
