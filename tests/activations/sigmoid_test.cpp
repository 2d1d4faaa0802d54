#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/sigmoid.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("sigmoid: known values (1 / (1 + e^-x))", "[activations][sigmoid]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::sigmoid>);
    const auto a = xtnn::sigmoid{};
    CHECK(a.value(0.0) == Approx(0.5).margin(1e-12));
    CHECK(a.value(2.0) == Approx(0.8807970779778823).margin(1e-12));
    CHECK(a.value(-2.0) == Approx(0.11920292202211755).margin(1e-12));
    CHECK(a.value(-1000.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(1000.0) == Approx(1.0).margin(1e-12));
    CHECK(a.derivative(0.0, 0.5) == Approx(0.25));
    CHECK(std::isfinite(a.value(-1e4f)));
}

TEST_CASE("sigmoid: float and double agree", "[activations][sigmoid]") {
    const auto a = xtnn::sigmoid{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("sigmoid: derivative matches numerical gradient", "[activations][sigmoid]") {
    xtnn::activation_layer<xtnn::sigmoid, double, 2> layer(xtnn::sigmoid{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
