#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/layers/softmax.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("softmax: rows are probabilities", "[layers][softmax]") {
    xtnn::softmax_layer<double, 2> s;
    xtnn::tensor<double, 2> x = {{1, 2, 3}, {0, 0, 0}};
    const auto y = xtnn::apply(s, x);
    const double e = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
    CHECK(y(0, 0) == Approx(e / (e + e2 + e3)));
    CHECK(y(0, 2) == Approx(e3 / (e + e2 + e3)));
    CHECK(y(1, 1) == Approx(1.0 / 3));
}

TEST_CASE("softmax: stable for logits of +-1e4", "[layers][softmax]") {
    xtnn::softmax_layer<float, 2> s;
    xtnn::log_softmax_layer<float, 2> ls;
    xtnn::tensor<float, 2> x = {{1e4f, -1e4f, 0.0f}, {-1e4f, -1e4f, -1e4f}};
    const auto y = xtnn::apply(s, x);
    CHECK(y(0, 0) == 1.0f);
    CHECK(y(0, 1) == 0.0f);
    CHECK(y(1, 2) == Approx(1.0 / 3));
    const auto ly = xtnn::apply(ls, x);
    CHECK(ly(0, 0) == 0.0f);
    CHECK(ly(0, 1) == -2e4f);
    CHECK(std::isfinite(ly(0, 2)));
}

TEST_CASE("softmax and log_softmax: backward matches numerical gradient", "[layers][softmax]") {
    const auto x = xtnn::test::random_tensor<double, 2>({3, 4}, 7, -3.0, 3.0);
    xtnn::softmax_layer<double, 2> s;
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(s, x));
    xtnn::log_softmax_layer<double, 2> ls;
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(ls, x));
    xtnn::softmax_layer<double, 3> s3;
    const auto x3 = xtnn::test::random_tensor<double, 3>({2, 2, 3}, 8);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(s3, x3));
}

TEST_CASE("softmax: log_softmax is the log of softmax", "[layers][softmax]") {
    const auto x = xtnn::test::random_tensor<double, 2>({4, 6}, 3, -5.0, 5.0);
    xtnn::softmax_layer<double, 2> s;
    xtnn::log_softmax_layer<double, 2> ls;
    const xtnn::tensor<double, 2> log_of_softmax = xt::log(xtnn::apply(s, x));
    CHECK(xtnn::test::max_abs_difference(xtnn::apply(ls, x), log_of_softmax) < 1e-12);
}

TEST_CASE("softmax: an empty class axis is rejected", "[layers][softmax]") {
    xtnn::softmax_layer<float, 2> s;
    REQUIRE_THROWS_WITH(s.output_shape({4, 0}),
                        Catch::Contains("softmax::forward: the last axis is empty"));
}
