#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/optimizers/adam.hpp>

#include "support/optimizer_fixture.hpp"

namespace {

// Adam by its paper's formulas, in double, for comparison.
struct reference_adam {
    double lr, b1, b2, eps, decay;
    bool decoupled;
    double m = 0, v = 0;
    int t = 0;
    double step(double w, double g) {
        ++t;
        if (decoupled) {
            w -= lr * decay * w;
        } else {
            g += decay * w;
        }
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const double m_hat = m / (1 - std::pow(b1, t));
        const double v_hat = v / (1 - std::pow(b2, t));
        return w - lr * m_hat / (std::sqrt(v_hat) + eps);
    }
};

} // namespace

TEST_CASE("adam: bias correction makes a constant gradient step by the learning rate",
          "[optimizers][adam]") {
    xtnn::adam<double> opt({.learning_rate = 0.1});
    xtnn::test::hand_parameter<double> p({1.0, -1.0});
    for (int k = 1; k <= 5; ++k) {
        p.gradient = {0.5, -3.0};
        opt.step(p.views);
        CHECK(p.value[0] == Approx(1.0 - 0.1 * k).epsilon(1e-7));
        CHECK(p.value[1] == Approx(-1.0 + 0.1 * k).epsilon(1e-7));
    }
    CHECK(opt.iterations() == 5);
}

TEST_CASE("adam and adamw: match the paper's formulas over varying gradients",
          "[optimizers][adam]") {
    // 37 values: the vectorized body and the scalar tail of the update both run.
    const std::size_t n = 37;
    for (bool decoupled : {false, true}) {
        const xtnn::adam_options o{.learning_rate = 0.01,
                                   .beta1 = 0.8,
                                   .beta2 = 0.99,
                                   .epsilon = 1e-6,
                                   .weight_decay = 0.1};
        std::vector<reference_adam> ref(n, reference_adam{0.01, 0.8, 0.99, 1e-6, 0.1, decoupled});
        xtnn::adam<double> adam(o);
        xtnn::adamw<double> adamw(o);
        std::vector<double> w(n);
        for (std::size_t i = 0; i < n; ++i) {
            w[i] = 0.1 * static_cast<double>(i) - 1.0;
        }
        xtnn::test::hand_parameter<double> p(w);
        for (int step = 1; step <= 7; ++step) {
            for (std::size_t i = 0; i < n; ++i) {
                p.gradient[i] = std::sin(static_cast<double>(step * 31 + static_cast<int>(i)));
                w[i] = ref[i].step(w[i], p.gradient[i]);
            }
            if (decoupled) {
                adamw.step(p.views);
            } else {
                adam.step(p.views);
            }
            for (std::size_t i = 0; i < n; ++i) {
                INFO("decoupled " << decoupled << ", step " << step << ", value " << i);
                REQUIRE(p.value[i] == Approx(w[i]).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("adam: weight decay defaults", "[optimizers][adam]") {
    CHECK(xtnn::adam<float>().weight_decay() == 0.0);
    CHECK(xtnn::adamw<float>().weight_decay() == 0.01);
    CHECK(xtnn::adamw<float>({.weight_decay = 0.0}).weight_decay() == 0.0);
}

TEST_CASE("adam: reaches the minimum of a quadratic", "[optimizers][adam]") {
    const std::vector<double> c{1.0, -2.0, 0.5};
    xtnn::adam<double> opt({.learning_rate = 0.05});
    const auto w = xtnn::test::minimize_quadratic(opt, c, 2000);
    for (std::size_t i = 0; i < c.size(); ++i) {
        CHECK(w[i] == Approx(c[i]).margin(1e-3));
    }
}

TEST_CASE("adam: the step flushes denormals but restores the caller's mode", "[optimizers][adam]") {
#if XTNN_HAS_MXCSR
    constexpr unsigned status_flags = 0x3F; // sticky exception flags, not modes
    const unsigned before = _mm_getcsr() & ~status_flags;
    xtnn::adam<float> opt;
    xtnn::test::hand_parameter<float> p({1.0f});
    p.gradient[0] = 1e-30f;
    opt.step(p.views);
    CHECK((_mm_getcsr() & ~status_flags) == before);
#else
    SUCCEED("no MXCSR on this CPU");
#endif
}

TEST_CASE("adam: impossible options are rejected", "[optimizers][adam]") {
    REQUIRE_THROWS_MATCHES(xtnn::adam<float>({.learning_rate = -0.01}), xtnn::config_error,
                           Catch::Message("adam: learning_rate must be > 0 and finite, got -0.01"));
    REQUIRE_THROWS_MATCHES(xtnn::adam<float>({.beta1 = 1.0}), xtnn::config_error,
                           Catch::Message("adam: beta1 must be in [0, 1), got 1"));
    REQUIRE_THROWS_AS(xtnn::adam<float>({.beta2 = -0.1}), xtnn::config_error);
    REQUIRE_THROWS_AS(xtnn::adamw<float>({.epsilon = 0}), xtnn::config_error);
    REQUIRE_THROWS_MATCHES(xtnn::adamw<float>({.weight_decay = -1}), xtnn::config_error,
                           Catch::Message("adamw: weight_decay must be >= 0, got -1"));
    REQUIRE_THROWS_AS(xtnn::adam<float>({.learning_rate = std::nan("")}), xtnn::config_error);
}
