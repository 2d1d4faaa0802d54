#include <catch2/catch.hpp>

#include <xtnn/losses/huber.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("huber: quadratic inside delta, linear outside", "[losses][huber]") {
    xtnn::tensor<double, 1> p = {0.5, 3, -4};
    xtnn::tensor<double, 1> t = {0, 0, 0};
    xtnn::tensor<double, 1> g;
    const double v = xtnn::huber{.delta = 1.0}.value_and_gradient(p, t, g);
    CHECK(v == Approx((0.125 + 2.5 + 3.5) / 3));
    CHECK(g(0) == Approx(0.5 / 3));
    CHECK(g(1) == Approx(1.0 / 3));
    CHECK(g(2) == Approx(-1.0 / 3));
    CHECK(xtnn::huber{.delta = 2.0}.value(p, t) == Approx((0.125 + 4 + 6) / 3));
}

TEST_CASE("huber: gradient matches numerical", "[losses][huber]") {
    const auto p = xtnn::test::random_tensor<double, 2>({5, 4}, 5, -3.0, 3.0);
    const auto t = xtnn::test::random_tensor<double, 2>({5, 4}, 6);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::huber{.delta = 0.7}, p, t));
}

TEST_CASE("huber: delta must be positive", "[losses][huber]") {
    xtnn::tensor<float, 1> p = {1};
    REQUIRE_THROWS_MATCHES(xtnn::huber{.delta = 0.0}.value(p, p), xtnn::config_error,
                           Catch::Message("huber: delta must be > 0, got 0"));
}
