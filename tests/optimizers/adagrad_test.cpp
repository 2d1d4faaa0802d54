#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/optimizers/adagrad.hpp>

#include "support/optimizer_fixture.hpp"

TEST_CASE("adagrad: steps by hand", "[optimizers][adagrad]") {
    xtnn::adagrad<double> opt({.learning_rate = 0.1, .epsilon = 1e-10});
    xtnn::test::hand_parameter<double> p({1.0});
    p.gradient[0] = 2.0; // s = 4: w -= 0.1 * 2 / 2
    opt.step(p.views);
    CHECK(p.value[0] == Approx(0.9));
    p.gradient[0] = 3.0; // s = 13: w -= 0.1 * 3 / sqrt(13)
    opt.step(p.views);
    CHECK(p.value[0] == Approx(0.9 - 0.3 / std::sqrt(13.0)));
}

TEST_CASE("adagrad: every value of a long parameter gets its own step", "[optimizers][adagrad]") {
    // 21 values: the vectorized body and the scalar tail of the update both run.
    xtnn::adagrad<float> opt({.learning_rate = 0.1});
    xtnn::test::hand_parameter<float> p(std::vector<float>(21, 1.0f));
    for (std::size_t i = 0; i < 21; ++i) {
        p.gradient[i] = static_cast<float>(i) - 10.0f; // s = g², so each step is -0.1 sign(g)
    }
    opt.step(p.views);
    for (std::size_t i = 0; i < 21; ++i) {
        const float expected = i < 10 ? 1.1f : (i == 10 ? 1.0f : 0.9f);
        REQUIRE(p.value[i] == Approx(expected));
    }
}

TEST_CASE("adagrad: initial accumulator and weight decay", "[optimizers][adagrad]") {
    xtnn::adagrad<double> opt(
        {.learning_rate = 0.1, .initial_accumulator_value = 5.0, .weight_decay = 0.5});
    xtnn::test::hand_parameter<double> p({2.0});
    p.gradient[0] = 1.0; // g = 1 + 0.5 * 2 = 2, s = 5 + 4 = 9: w -= 0.1 * 2 / 3
    opt.step(p.views);
    CHECK(p.value[0] == Approx(2.0 - 0.2 / 3));
    opt.reset(); // the accumulator starts again from its initial value
    p.value[0] = 2.0;
    opt.step(p.views);
    CHECK(p.value[0] == Approx(2.0 - 0.2 / 3));
}

TEST_CASE("adagrad: reaches the minimum of a quadratic", "[optimizers][adagrad]") {
    const std::vector<double> c{1.0, -2.0, 0.5};
    xtnn::adagrad<double> opt({.learning_rate = 0.5});
    const auto w = xtnn::test::minimize_quadratic(opt, c, 2000);
    for (std::size_t i = 0; i < c.size(); ++i) {
        CHECK(w[i] == Approx(c[i]).margin(1e-4));
    }
}

TEST_CASE("adagrad: impossible options are rejected", "[optimizers][adagrad]") {
    REQUIRE_THROWS_MATCHES(
        xtnn::adagrad<float>({.initial_accumulator_value = -1}), xtnn::config_error,
        Catch::Message("adagrad: initial_accumulator_value must be >= 0, got -1"));
    REQUIRE_THROWS_AS(xtnn::adagrad<float>({.learning_rate = 0}), xtnn::config_error);
}
