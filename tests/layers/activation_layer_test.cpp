#include <catch2/catch.hpp>

#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/activations/tanh.hpp>
#include <xtnn/layers/activation_layer.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("activation_layer: applies the activation elementwise at any rank",
          "[layers][activation_layer]") {
    xtnn::activation_layer<xtnn::relu, float, 4> layer;
    STATIC_REQUIRE(xtnn::layer<decltype(layer)>);
    CHECK(decltype(layer)::name == "relu");
    auto x = xtnn::test::random_tensor<float, 4>({2, 3, 4, 5}, 1);
    const auto y = xtnn::apply(layer, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
        REQUIRE(y.data()[i] == std::max(x.data()[i], 0.0f));
    }
    CHECK(layer.parameters().empty());
}

TEST_CASE("activation_layer: keeps the activation's options", "[layers][activation_layer]") {
    xtnn::activation_layer<xtnn::leaky_relu, double, 2> layer(xtnn::leaky_relu{0.5});
    CHECK(layer.function().negative_slope == 0.5);
    xtnn::tensor<double, 2> x = {{-2, 2}};
    CHECK(xtnn::test::equal(xtnn::apply(layer, x), xtnn::tensor<double, 2>{{-1, 2}}));
}

TEST_CASE("activation_layer: backward matches numerical gradient at rank 3",
          "[layers][activation_layer]") {
    xtnn::activation_layer<xtnn::tanh, double, 3> layer;
    const auto x = xtnn::test::random_tensor<double, 3>({2, 3, 4}, 5, -2.0, 2.0);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
}

TEST_CASE("activation_layer: shape errors", "[layers][activation_layer]") {
    xtnn::activation_layer<xtnn::relu, float, 2> layer;
    xtnn::tensor<float, 2> x(xtnn::shape<2>{2, 3});
    xtnn::tensor<float, 2> y(xtnn::shape<2>{3, 2});
    REQUIRE_THROWS_MATCHES(layer.forward(x, y), xtnn::shape_error,
                           Catch::Message("relu::forward: output buffer shape mismatch; expected "
                                          "(2, 3), got (3, 2)"));
}
