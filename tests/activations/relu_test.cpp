#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/relu.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("relu: known values (max(x, 0))", "[activations][relu]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::relu>);
    const auto a = xtnn::relu{};
    CHECK(a.value(-2.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(3.5) == Approx(3.5).margin(1e-12));
    CHECK(a.derivative(-1.0, 0.0) == 0.0);
    CHECK(a.derivative(2.0, 2.0) == 1.0);
}

TEST_CASE("relu: float and double agree", "[activations][relu]") {
    const auto a = xtnn::relu{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("relu: derivative matches numerical gradient", "[activations][relu]") {
    xtnn::activation_layer<xtnn::relu, double, 2> layer(xtnn::relu{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
