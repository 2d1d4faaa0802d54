#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/activations/softplus.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("softplus: known values (log(1 + e^x))", "[activations][softplus]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::softplus>);
    const auto a = xtnn::softplus{};
    CHECK(a.value(0.0) == Approx(0.6931471805599453).margin(1e-12));
    CHECK(a.value(1.0) == Approx(1.3132616875182228).margin(1e-12));
    CHECK(a.value(-1.0) == Approx(0.31326168751822286).margin(1e-12));
    CHECK(a.value(1000.0) == Approx(1000.0).margin(1e-12));
    CHECK(a.value(-1000.0) == Approx(0.0).margin(1e-12));
    CHECK(a.derivative(0.0, a.value(0.0)) == Approx(0.5));
    CHECK(std::isfinite(a.value(1e4f)));
}

TEST_CASE("softplus: float and double agree", "[activations][softplus]") {
    const auto a = xtnn::softplus{};
    for (double x : {-3.0, -0.5, 0.25, 1.5, 4.0}) {
        CHECK(static_cast<double>(a.value(static_cast<float>(x))) ==
              Approx(a.value(x)).epsilon(1e-6).margin(1e-6));
    }
}

TEST_CASE("softplus: derivative matches numerical gradient", "[activations][softplus]") {
    xtnn::activation_layer<xtnn::softplus, double, 2> layer(xtnn::softplus{});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 17, -3.0, 3.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}
