#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/tanh.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("tanh: known values (tanh(x))", "[activations][tanh]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::tanh>);
    const auto a = xtnn::tanh{};
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(1.0) == Approx(0.7615941559557649).margin(1e-12));
    CHECK(a.value(-1.0) == Approx(-0.7615941559557649).margin(1e-12));
    CHECK(a.value(30.0) == Approx(1.0).margin(1e-12));
    CHECK(a.derivative(0.0, 0.0) == 1.0);
    CHECK(a.derivative(1.0, a.value(1.0)) == Approx(0.41997434161402614));
}

TEST_CASE("tanh: float and double agree", "[activations][tanh]") {
    const auto a = xtnn::tanh{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("tanh: derivative matches numerical gradient", "[activations][tanh]") {
    xtnn::activation_layer<xtnn::tanh, double, 2> layer(xtnn::tanh{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
