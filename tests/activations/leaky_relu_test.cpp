#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("leaky_relu: known values (slope * x below 0)", "[activations][leaky_relu]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::leaky_relu>);
    const auto a = xtnn::leaky_relu{.negative_slope = 0.1};
    CHECK(a.value(-2.0) == Approx(-0.2).margin(1e-12));
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(3.0) == Approx(3.0).margin(1e-12));
    CHECK(a.derivative(-1.0, -0.1) == Approx(0.1));
    CHECK(a.derivative(2.0, 2.0) == 1.0);
    CHECK(xtnn::leaky_relu{}.negative_slope == 0.01);
}

TEST_CASE("leaky_relu: float and double agree", "[activations][leaky_relu]") {
    const auto a = xtnn::leaky_relu{.negative_slope = 0.1};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("leaky_relu: derivative matches numerical gradient", "[activations][leaky_relu]") {
    xtnn::activation_layer<xtnn::leaky_relu, double, 2> layer(
        xtnn::leaky_relu{.negative_slope = 0.1});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
