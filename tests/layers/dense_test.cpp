#include <catch2/catch.hpp>

#include <xtnn/layers/dense.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("dense: satisfies the layer concept", "[layers][dense]") {
    STATIC_REQUIRE(xtnn::layer<xtnn::dense<float>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::dense<double>>);
    xtnn::dense fc{784, 128};
    STATIC_REQUIRE(std::same_as<decltype(fc), xtnn::dense<float>>);
}

TEST_CASE("dense: forward computes x Wt + b", "[layers][dense]") {
    xtnn::dense<double> fc(3, 2);
    fc.weight() = {{1, 2, 3}, {-1, 0, 1}};
    fc.bias() = {0.5, -0.5};
    xtnn::tensor<double, 2> x = {{1, 1, 1}, {1, 0, -1}};
    const auto y = xtnn::apply(fc, x);
    CHECK(xtnn::test::equal(y, xtnn::tensor<double, 2>{{6.5, -0.5}, {-1.5, -2.5}}));
}

TEST_CASE("dense: PyTorch layout and parameter names", "[layers][dense]") {
    xtnn::dense<float> fc(4, 3);
    CHECK(fc.weight().shape() == xtnn::shape<2>{3, 4});
    CHECK(fc.bias().shape() == xtnn::shape<1>{3});
    auto params = fc.parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "weight");
    CHECK(params[0].shape == std::vector<std::size_t>{3, 4});
    CHECK(params[0].value.data() == fc.weight().data());
    CHECK(params[1].name == "bias");
    CHECK(params[1].shape == std::vector<std::size_t>{3});

    xtnn::dense<float> no_bias({.in = 4, .out = 3, .bias = false});
    CHECK_FALSE(no_bias.has_bias());
    REQUIRE(no_bias.parameters().size() == 1);
    no_bias.weight() = xt::ones<float>({3, 4});
    xtnn::tensor<float, 2> x = {{1, 2, 3, 4}};
    CHECK(xtnn::test::equal(xtnn::apply(no_bias, x), xtnn::tensor<float, 2>{{10, 10, 10}}));
}

TEST_CASE("dense: initialization follows the options and the seed", "[layers][dense]") {
    xtnn::dense<float> a({.in = 100, .out = 50, .seed = 3});
    xtnn::dense<float> b({.in = 100, .out = 50, .seed = 3});
    xtnn::dense<float> c({.in = 100, .out = 50, .seed = 4});
    CHECK(xtnn::test::equal(a.weight(), b.weight()));
    CHECK_FALSE(xtnn::test::equal(a.weight(), c.weight()));
    const double limit = std::sqrt(6.0 / 150);
    CHECK(xt::amax(xt::abs(a.weight()))() <= limit);
    CHECK(xt::amax(xt::abs(a.bias()))() == 0.0f);
    xtnn::dense<float> custom({.in = 10, .out = 5, .bias_init = xtnn::constant{0.1}});
    CHECK(xtnn::test::equal(custom.bias(), xtnn::tensor<float, 1>(xt::ones<float>({5}) * 0.1f)));
}

TEST_CASE("dense: backward matches numerical gradient", "[layers][dense]") {
    xtnn::dense<double> fc({.in = 5,
                            .out = 3,
                            .weight_init = xtnn::glorot_normal{},
                            .bias_init = xtnn::constant{0.3}});
    const auto x = xtnn::test::random_tensor<double, 2>({4, 5}, 9);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(fc, x));
    xtnn::dense<double> no_bias({.in = 5, .out = 3, .bias = false});
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(no_bias, x));
}

TEST_CASE("dense: backward overwrites, not accumulates, the gradients", "[layers][dense]") {
    xtnn::dense<double> fc(2, 2);
    xtnn::tensor<double, 2> x = {{1, 2}};
    xtnn::tensor<double, 2> y(xtnn::shape<2>{1, 2});
    xtnn::tensor<double, 2> dy = {{1, -1}};
    fc.forward(x, y);
    fc.backward(x, y, dy, nullptr);
    const xtnn::tensor<double, 2> first = fc.weight_gradient();
    fc.backward(x, y, dy, nullptr);
    CHECK(xtnn::test::equal(fc.weight_gradient(), first));
    CHECK(xtnn::test::equal(first, xtnn::tensor<double, 2>{{1, 2}, {-1, -2}}));
    CHECK(xtnn::test::equal(fc.bias_gradient(), xtnn::tensor<double, 1>{1, -1}));
}

TEST_CASE("dense: shape and option errors", "[layers][dense]") {
    xtnn::dense<float> fc(784, 10);
    xtnn::tensor<float, 2> wrong(xtnn::shape<2>{32, 28});
    REQUIRE_THROWS_MATCHES(xtnn::apply(fc, wrong), xtnn::shape_error,
                           Catch::Message("dense::forward: input shape mismatch; expected (batch, "
                                          "784), got (32, 28)"));
    xtnn::tensor<float, 2> x(xtnn::shape<2>{2, 784});
    xtnn::tensor<float, 2> y(xtnn::shape<2>{2, 9});
    REQUIRE_THROWS_WITH(fc.forward(x, y), Catch::Contains("expected (2, 10), got (2, 9)"));
    xtnn::tensor<float, 2> good_y(xtnn::shape<2>{2, 10});
    xtnn::tensor<float, 2> bad_dy(xtnn::shape<2>{3, 10});
    REQUIRE_THROWS_WITH(
        fc.backward(x, good_y, bad_dy, nullptr),
        Catch::Contains("output gradient shape mismatch; expected (2, 10), got (3, 10)"));
    REQUIRE_THROWS_MATCHES(xtnn::dense<float>(0, 10), xtnn::config_error,
                           Catch::Message("dense: in must be > 0, got 0"));
    REQUIRE_THROWS_AS(xtnn::dense<float>(10, 0), xtnn::config_error);
}
