#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/identity.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("identity: known values (x)", "[activations][identity]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::identity>);
    const auto a = xtnn::identity{};
    CHECK(a.value(-2.5) == Approx(-2.5).margin(1e-12));
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(7.0) == Approx(7.0).margin(1e-12));
    CHECK(a.derivative(3.0, 3.0) == 1.0);
}

TEST_CASE("identity: float and double agree", "[activations][identity]") {
    const auto a = xtnn::identity{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("identity: derivative matches numerical gradient", "[activations][identity]") {
    xtnn::activation_layer<xtnn::identity, double, 2> layer(xtnn::identity{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
