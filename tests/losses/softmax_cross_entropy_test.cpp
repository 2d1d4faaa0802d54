#include <cmath>
#include <cstdint>

#include <catch2/catch.hpp>

#include <xtnn/losses/softmax_cross_entropy.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("softmax_cross_entropy: known value for class indices",
          "[losses][softmax_cross_entropy]") {
    xtnn::tensor<double, 2> z = {{1, 2, 3}, {1, 1, 1}};
    xtnn::tensor<std::uint8_t, 1> labels = {2, 0};
    const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    const double expected = ((lse0 - 3) + std::log(3.0)) / 2;
    CHECK(xtnn::softmax_cross_entropy{}.value(z, labels) == Approx(expected));
    xtnn::tensor<double, 2> g;
    xtnn::softmax_cross_entropy{}.value_and_gradient(z, labels, g);
    CHECK(g(1, 0) == Approx((1.0 / 3 - 1) / 2));
    CHECK(g(1, 1) == Approx((1.0 / 3) / 2));
    CHECK(xt::sum(g)() == Approx(0).margin(1e-12)); // each row of p - onehot sums to 0
}

TEST_CASE("softmax_cross_entropy: indices and one-hot targets agree",
          "[losses][softmax_cross_entropy]") {
    const auto z = xtnn::test::random_tensor<double, 2>({5, 4}, 1, -3.0, 3.0);
    xtnn::tensor<int, 1> labels = {0, 3, 1, 1, 2};
    xtnn::tensor<double, 2> onehot = xt::zeros<double>({5, 4});
    for (std::size_t r = 0; r < 5; ++r) {
        onehot(r, static_cast<std::size_t>(labels(r))) = 1;
    }
    xtnn::tensor<double, 2> g1, g2;
    const xtnn::softmax_cross_entropy loss;
    CHECK(loss.value_and_gradient(z, labels, g1) == Approx(loss.value_and_gradient(z, onehot, g2)));
    CHECK(xtnn::test::max_abs_difference(g1, g2) < 1e-12);
}

TEST_CASE("softmax_cross_entropy: gradients match numerical", "[losses][softmax_cross_entropy]") {
    const auto z = xtnn::test::random_tensor<double, 2>({4, 5}, 2, -3.0, 3.0);
    xtnn::tensor<long, 1> labels = {4, 0, 2, 2};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::softmax_cross_entropy{}, z, labels));
    const auto soft = xtnn::test::random_tensor<double, 2>({4, 5}, 3, 0.0, 0.4);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::softmax_cross_entropy{}, z, soft));
}

TEST_CASE("softmax_cross_entropy: exact for logits of +-1e4", "[losses][softmax_cross_entropy]") {
    xtnn::tensor<float, 2> z = {{1e4f, -1e4f, 0.0f}, {-1e4f, 1e4f, 1e4f}};
    xtnn::tensor<int, 1> labels = {0, 0};
    xtnn::tensor<float, 2> g;
    const float v = xtnn::softmax_cross_entropy{}.value_and_gradient(z, labels, g);
    // row 0 is right with certainty (0); row 1 is wrong by 2e4 + log 2.
    CHECK(v == Approx((2e4 + std::log(2.0)) / 2));
    for (float e : g) {
        REQUIRE(std::isfinite(e));
    }
    CHECK(g(1, 0) == Approx(-0.5f));
    CHECK(g(1, 1) == Approx(0.25f));
}

TEST_CASE("softmax_cross_entropy: shape and label errors", "[losses][softmax_cross_entropy]") {
    xtnn::tensor<float, 2> z(xtnn::shape<2>{64, 10});
    z.fill(0.0f);
    xtnn::tensor<int, 1> short_labels(xtnn::shape<1>{63});
    REQUIRE_THROWS_MATCHES(xtnn::softmax_cross_entropy{}.value(z, short_labels), xtnn::shape_error,
                           Catch::Message("softmax_cross_entropy::value: one label per row of "
                                          "logits; expected (64,), got (63,)"));
    xtnn::tensor<float, 2> onehot(xtnn::shape<2>{64, 9});
    REQUIRE_THROWS_WITH(xtnn::softmax_cross_entropy{}.value(z, onehot),
                        Catch::Contains("expected (64, 10), got (64, 9)"));
    xtnn::tensor<int, 1> labels(xtnn::shape<1>{64});
    labels.fill(0);
    labels(5) = 10;
    REQUIRE_THROWS_MATCHES(xtnn::softmax_cross_entropy{}.value(z, labels), std::out_of_range,
                           Catch::Message("softmax_cross_entropy::value: label 10 of row 5 is out "
                                          "of range; expected 0..9"));
    labels(5) = -1;
    REQUIRE_THROWS_AS(xtnn::softmax_cross_entropy{}.value(z, labels), std::out_of_range);
}
