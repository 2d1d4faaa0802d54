#include <catch2/catch.hpp>

#include <xtnn/losses/mean_squared_error.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("mean_squared_error: known value and gradient", "[losses][mean_squared_error]") {
    xtnn::tensor<double, 2> p = {{1, 2}, {3, 4}};
    xtnn::tensor<double, 2> t = {{1, 0}, {0, 4}};
    xtnn::tensor<double, 2> g;
    const xtnn::mean_squared_error mse;
    CHECK(mse.value(p, t) == Approx((0 + 4 + 9 + 0) / 4.0));
    CHECK(mse.value_and_gradient(p, t, g) == Approx(13.0 / 4));
    CHECK(xtnn::test::equal(g, xtnn::tensor<double, 2>{{0, 1}, {1.5, 0}}));
}

TEST_CASE("mean_squared_error: gradient matches numerical", "[losses][mean_squared_error]") {
    const auto p = xtnn::test::random_tensor<double, 3>({2, 3, 2}, 1);
    const auto t = xtnn::test::random_tensor<double, 3>({2, 3, 2}, 2);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::mean_squared_error{}, p, t));
}

TEST_CASE("mean_squared_error: shapes must agree", "[losses][mean_squared_error]") {
    xtnn::tensor<float, 2> p(xtnn::shape<2>{64, 10});
    xtnn::tensor<float, 2> t(xtnn::shape<2>{64, 9});
    REQUIRE_THROWS_MATCHES(xtnn::mean_squared_error{}.value(p, t), xtnn::shape_error,
                           Catch::Message("mean_squared_error::value: prediction and target "
                                          "shapes differ; expected (64, 10), got (64, 9)"));
}
