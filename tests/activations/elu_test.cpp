#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/elu.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("elu: known values (alpha (e^x - 1) below 0)", "[activations][elu]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::elu>);
    const auto a = xtnn::elu{};
    CHECK(a.value(-1.0) == Approx(-0.6321205588285577).margin(1e-12));
    CHECK(a.value(0.0) == Approx(0.0).margin(1e-12));
    CHECK(a.value(2.0) == Approx(2.0).margin(1e-12));
    CHECK(a.value(-50.0) == Approx(-1.0).margin(1e-12));
    CHECK(a.derivative(-1.0, a.value(-1.0)) == Approx(0.36787944117144233));
    CHECK(a.derivative(2.0, 2.0) == 1.0);
}

TEST_CASE("elu: float and double agree", "[activations][elu]") {
    const auto a = xtnn::elu{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("elu: derivative matches numerical gradient", "[activations][elu]") {
    xtnn::activation_layer<xtnn::elu, double, 2> layer(xtnn::elu{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
