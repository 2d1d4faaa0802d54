#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/optimizers/rmsprop.hpp>

#include "support/optimizer_fixture.hpp"

namespace {

// RMSprop by PyTorch's documented algorithm, in double.
struct reference_rmsprop {
    xtnn::rmsprop_options o;
    double s = 0, mean = 0, b = 0;
    double step(double w, double g) {
        g += o.weight_decay * w;
        s = o.alpha * s + (1 - o.alpha) * g * g;
        double variance = s;
        if (o.centered) {
            mean = o.alpha * mean + (1 - o.alpha) * g;
            variance -= mean * mean;
        }
        const double scaled = g / (std::sqrt(variance) + o.epsilon);
        if (o.momentum > 0) {
            b = o.momentum * b + scaled;
            return w - o.learning_rate * b;
        }
        return w - o.learning_rate * scaled;
    }
};

} // namespace

TEST_CASE("rmsprop: first step by hand", "[optimizers][rmsprop]") {
    // s = 0.01 g², so the first step is η g / (0.1 |g|) = 10 η sign(g).
    xtnn::rmsprop<double> opt({.learning_rate = 0.01});
    xtnn::test::hand_parameter<double> p({1.0});
    p.gradient[0] = 2.0;
    opt.step(p.views);
    CHECK(p.value[0] == Approx(1.0 - 0.1).epsilon(1e-6));
}

TEST_CASE("rmsprop: matches the reference in every mode", "[optimizers][rmsprop]") {
    const double gradients[] = {0.3, -1.2, 0.05, 2.0, -0.7, 0.4};
    const std::vector<xtnn::rmsprop_options> modes{
        {.learning_rate = 0.01},
        {.learning_rate = 0.01, .alpha = 0.9, .momentum = 0.5},
        {.learning_rate = 0.01, .centered = true, .weight_decay = 0.1},
        {.learning_rate = 0.02, .alpha = 0.8, .momentum = 0.9, .centered = true},
    };
    // 19 values: the vectorized body and the scalar tail of the update both run.
    const std::size_t n = 19;
    for (const auto& o : modes) {
        xtnn::rmsprop<double> opt(o);
        std::vector<reference_rmsprop> ref(n, reference_rmsprop{o});
        std::vector<double> w(n, 0.5);
        xtnn::test::hand_parameter<double> p(w);
        for (double g : gradients) {
            for (std::size_t i = 0; i < n; ++i) {
                p.gradient[i] = g * (1.0 + 0.1 * static_cast<double>(i));
                w[i] = ref[i].step(w[i], p.gradient[i]);
            }
            opt.step(p.views);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(p.value[i] == Approx(w[i]).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("rmsprop: reaches the minimum of a quadratic", "[optimizers][rmsprop]") {
    const std::vector<double> c{1.0, -2.0, 0.5};
    xtnn::rmsprop<double> opt({.learning_rate = 0.01});
    const auto w = xtnn::test::minimize_quadratic(opt, c, 3000);
    for (std::size_t i = 0; i < c.size(); ++i) {
        CHECK(w[i] == Approx(c[i]).margin(0.02));
    }
}

TEST_CASE("rmsprop: impossible options are rejected", "[optimizers][rmsprop]") {
    REQUIRE_THROWS_MATCHES(xtnn::rmsprop<float>({.alpha = 1.5}), xtnn::config_error,
                           Catch::Message("rmsprop: alpha must be in [0, 1), got 1.5"));
    REQUIRE_THROWS_AS(xtnn::rmsprop<float>({.epsilon = -1}), xtnn::config_error);
    REQUIRE_THROWS_AS(xtnn::rmsprop<float>({.momentum = 1}), xtnn::config_error);
}
