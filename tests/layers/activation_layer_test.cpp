#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <xtnn/activations/elu.hpp>
#include <xtnn/activations/gelu.hpp>
#include <xtnn/activations/identity.hpp>
#include <xtnn/activations/leaky_relu.hpp>
#include <xtnn/activations/relu.hpp>
#include <xtnn/activations/sigmoid.hpp>
#include <xtnn/activations/softplus.hpp>
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

namespace {

// The tanh form of gelu, as its own type so the template test below covers both forms.
struct gelu_tanh : xtnn::gelu {
    gelu_tanh() : xtnn::gelu{.approximate = true} {}
};

// An activation written for scalars only: activation_layer must fall back to its plain loop.
struct scalar_only_square {
    static constexpr std::string_view name = "square";
    template <std::floating_point T>
    T value(T x) const {
        return x * x;
    }
    template <std::floating_point T>
    T derivative(T x, T /*y*/) const {
        return 2 * x;
    }
};

// a == b, or within a few units in the last place (xsimd's exp/erf/tanh round differently
// from the C library's), or both NaN.
template <class T>
bool close_or_both_nan(T a, T b) {
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b);
    }
    const T scale = std::max({std::abs(a), std::abs(b), T(1)});
    return std::abs(a - b) <= 8 * std::numeric_limits<T>::epsilon() * scale;
}

} // namespace

// Catch2 2.13's TEMPLATE_PRODUCT_TEST_CASE converts an int index to std::size_t inside its own
// expansion (-Wsign-conversion, reported at the macro's line).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
TEMPLATE_PRODUCT_TEST_CASE("activation_layer: SIMD batches and the scalar tail agree with the "
                           "activation element by element",
                           "[layers][activation_layer]", std::pair,
                           ((xtnn::relu, float), (xtnn::relu, double), (xtnn::leaky_relu, float),
                            (xtnn::elu, float), (xtnn::elu, double), (xtnn::gelu, float),
                            (gelu_tanh, float), (xtnn::sigmoid, float), (xtnn::sigmoid, double),
                            (xtnn::softplus, float), (xtnn::tanh, float), (xtnn::identity, float),
                            (scalar_only_square, float))) {
    using A = typename TestType::first_type;
    using T = typename TestType::second_type;
    STATIC_REQUIRE(xtnn::detail::simd_activation<A, T> == !std::is_same_v<A, scalar_only_square>);
    const A a{};
    xtnn::activation_layer<A, T, 2> layer(a);
    // 3 x 37 elements: whole batches of any width, then a tail; special values land in both.
    auto x = xtnn::test::random_tensor<T, 2>({3, 37}, 11, -8.0, 8.0);
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (std::size_t i : {std::size_t{0}, std::size_t{109}}) {
        x.data()[i] = nan;
        x.data()[i + 1] = T(-0.0);
    }
    x.data()[5] = T(40);
    x.data()[6] = T(-40);
    x.data()[107] = T(0);
    x.data()[108] = T(-90);
    const auto dy = xtnn::test::random_tensor<T, 2>({3, 37}, 12);
    xtnn::tensor<T, 2> y(x.shape());
    xtnn::tensor<T, 2> dx;
    layer.forward(x, y);
    layer.backward(x, y, dy, &dx);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const T xi = x.data()[i];
        const T yi = a.value(xi);
        INFO("element " << i << ", x = " << xi);
        REQUIRE(close_or_both_nan(y.data()[i], yi));
        REQUIRE(close_or_both_nan(dx.data()[i], dy.data()[i] * a.derivative(xi, yi)));
    }
}
#pragma GCC diagnostic pop

TEST_CASE("activation_layer: NaN passes through relu and leaky_relu, as in PyTorch",
          "[layers][activation_layer]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(std::isnan(xtnn::relu{}.value(nan)));
    CHECK(std::isnan(xtnn::leaky_relu{}.value(nan)));
    xtnn::activation_layer<xtnn::relu, float, 2> layer;
    xtnn::tensor<float, 2> x = {{nan, -1, 2, nan, 0, 3, -4, 5, nan}};
    const auto y = xtnn::apply(layer, x);
    for (std::size_t i : {0u, 3u, 8u}) {
        CHECK(std::isnan(y.data()[i]));
    }
    CHECK(y(0, 1) == 0.0f);
    CHECK(y(0, 5) == 3.0f);
}
