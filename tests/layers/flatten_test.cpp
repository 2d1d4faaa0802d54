#include <catch2/catch.hpp>

#include <xtnn/layers/flatten.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("flatten: (batch, c, h, w) -> (batch, c*h*w) in memory order", "[layers][flatten]") {
    xtnn::flatten_layer<float, 4> f;
    STATIC_REQUIRE(xtnn::layer<decltype(f)>);
    CHECK(f.output_shape({8, 1, 28, 28}) == xtnn::shape<2>{8, 784});
    const auto x = xtnn::test::random_tensor<float, 4>({2, 3, 2, 2}, 1);
    const auto y = xtnn::apply(f, x);
    CHECK(y.shape() == xtnn::shape<2>{2, 12});
    CHECK(y(1, 5) == x(1, 1, 0, 1));
}

TEST_CASE("flatten: backward restores the input shape", "[layers][flatten]") {
    xtnn::flatten_layer<double, 3> f;
    const auto x = xtnn::test::random_tensor<double, 3>({2, 3, 4}, 2);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(f, x));
}
