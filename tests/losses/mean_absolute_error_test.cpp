#include <catch2/catch.hpp>

#include <xtnn/losses/mean_absolute_error.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("mean_absolute_error: known value and gradient", "[losses][mean_absolute_error]") {
    xtnn::tensor<double, 1> p = {1, -2, 3, 5};
    xtnn::tensor<double, 1> t = {0, 0, 3, 6};
    xtnn::tensor<double, 1> g;
    CHECK(xtnn::mean_absolute_error{}.value_and_gradient(p, t, g) == Approx(4.0 / 4));
    CHECK(xtnn::test::equal(g, xtnn::tensor<double, 1>{0.25, -0.25, 0, -0.25}));
}

TEST_CASE("mean_absolute_error: gradient matches numerical", "[losses][mean_absolute_error]") {
    const auto p = xtnn::test::random_tensor<double, 2>({4, 3}, 3);
    const auto t = xtnn::test::random_tensor<double, 2>({4, 3}, 4);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_loss_gradient(xtnn::mean_absolute_error{}, p, t));
}
