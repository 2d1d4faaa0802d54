#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/losses/binary_cross_entropy.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("binary_cross_entropy: known values on probabilities", "[losses][binary_cross_entropy]") {
    xtnn::tensor<double, 2> p = {{0.9}, {0.2}};
    xtnn::tensor<double, 2> t = {{1}, {0}};
    const double expected = -(std::log(0.9) + std::log(0.8)) / 2;
    CHECK(xtnn::binary_cross_entropy{}.value(p, t) == Approx(expected));
}

TEST_CASE("binary_cross_entropy: logits agree with sigmoid then probabilities",
          "[losses][binary_cross_entropy]") {
    const auto z = xtnn::test::random_tensor<double, 2>({4, 3}, 1, -4.0, 4.0);
    const auto t = xtnn::test::random_tensor<double, 2>({4, 3}, 2, 0.0, 1.0);
    xtnn::tensor<double, 2> p = 1.0 / (1.0 + xt::exp(-z));
    CHECK(xtnn::binary_cross_entropy{.from_logits = true}.value(z, t) ==
          Approx(xtnn::binary_cross_entropy{}.value(p, t)).epsilon(1e-10));
}

TEST_CASE("binary_cross_entropy: gradients match numerical", "[losses][binary_cross_entropy]") {
    const auto t = xtnn::test::random_tensor<double, 2>({4, 3}, 2, 0.0, 1.0);
    const auto p = xtnn::test::random_tensor<double, 2>({4, 3}, 3, 0.05, 0.95);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::binary_cross_entropy{}, p, t));
    const auto z = xtnn::test::random_tensor<double, 2>({4, 3}, 4, -5.0, 5.0);
    XTNN_REQUIRE_GRADIENTS(
        xtnn::check_loss_gradient(xtnn::binary_cross_entropy{.from_logits = true}, z, t));
}

TEST_CASE("binary_cross_entropy: saturated inputs stay finite", "[losses][binary_cross_entropy]") {
    xtnn::tensor<float, 1> p = {0.0f, 1.0f};
    xtnn::tensor<float, 1> t = {1.0f, 0.0f};
    xtnn::tensor<float, 1> g;
    const float v = xtnn::binary_cross_entropy{}.value_and_gradient(p, t, g);
    CHECK(v == Approx(100.0f));
    CHECK(std::isfinite(g(0)));
    CHECK(std::isfinite(g(1)));
    xtnn::tensor<float, 1> z = {1e4f, -1e4f}; // confidently wrong for targets {0, 1}
    xtnn::tensor<float, 1> wrong = {0.0f, 1.0f};
    CHECK(xtnn::binary_cross_entropy{.from_logits = true}.value(z, wrong) == Approx(1e4f));
    CHECK(xtnn::binary_cross_entropy{.from_logits = true}.value(z, t) == 0.0f);
}
