#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/gelu.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("gelu: known values (x Phi(x))", "[activations][gelu]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::gelu>);
    const auto a = xtnn::gelu{};
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(1.0) == Approx(0.8413447460685429).margin(1e-12));
    CHECK(a.value(-1.0) == Approx(-0.15865525393145707).margin(1e-12));
    CHECK(a.value(2.0) == Approx(1.9544997361036416).margin(1e-12));
    CHECK(a.derivative(0.0, 0.0) == Approx(0.5));
    const xtnn::gelu approx{.approximate = true};
    CHECK(approx.value(1.0) == Approx(0.8411919906082768));
    CHECK(approx.value(-1.0) == Approx(-0.15880800939172324));
}

TEST_CASE("gelu: float and double agree", "[activations][gelu]") {
    const auto a = xtnn::gelu{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("gelu: derivative matches numerical gradient", "[activations][gelu]") {
    xtnn::activation_layer<xtnn::gelu, double, 2> layer(xtnn::gelu{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
