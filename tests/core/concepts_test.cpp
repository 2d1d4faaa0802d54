#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

// A layer with everything but backward: must not satisfy the concept.
struct no_backward {
    using value_type = float;
    static constexpr std::size_t input_rank = 2;
    static constexpr std::size_t output_rank = 2;
    using input_type = xtnn::tensor<float, 2>;
    using output_type = xtnn::tensor<float, 2>;
    [[maybe_unused]] static constexpr std::string_view name = "no_backward";
    xtnn::shape<2> output_shape(const xtnn::shape<2>& s) const { return s; }
    void forward(const input_type&, output_type&, xtnn::mode) {}
    std::vector<xtnn::parameter_view<float>> parameters() { return {}; }
};

// Declares rank 2 but uses a rank-3 tensor type.
struct wrong_rank {
    using value_type = float;
    static constexpr std::size_t input_rank = 2;
    static constexpr std::size_t output_rank = 2;
    using input_type = xtnn::tensor<float, 3>;
    using output_type = xtnn::tensor<float, 2>;
    [[maybe_unused]] static constexpr std::string_view name = "wrong_rank";
};

// An activation for float only.
struct float_only {
    static constexpr std::string_view name = "float_only";
    float value(float x) const { return x; }
    float derivative(float, float) const { return 1; }
};

struct not_an_optimizer {
    using value_type = float;
    static constexpr std::string_view name = "nope";
};

} // namespace

TEST_CASE("concepts: xtnn's layers satisfy layer", "[core][concepts]") {
    STATIC_REQUIRE(xtnn::layer<xtnn::dense<float>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::dense<double>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::activation_layer<xtnn::relu, float, 4>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::dropout_layer<double, 3>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::flatten_layer<float, 4>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::softmax_layer<float, 2>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::log_softmax_layer<double, 2>>);
    STATIC_REQUIRE(xtnn::layer<xtnn::sequential<xtnn::dense<float>, xtnn::relu>>);
    STATIC_REQUIRE(xtnn::check_layer<xtnn::dense<float>>());
}

TEST_CASE("concepts: broken layers do not satisfy layer", "[core][concepts]") {
    STATIC_REQUIRE_FALSE(xtnn::layer<no_backward>);
    STATIC_REQUIRE(xtnn::detail::has_forward<no_backward>);
    STATIC_REQUIRE_FALSE(xtnn::detail::has_backward<no_backward>);
    STATIC_REQUIRE_FALSE(xtnn::layer<wrong_rank>);
    STATIC_REQUIRE_FALSE(xtnn::detail::has_tensor_types<wrong_rank>);
    STATIC_REQUIRE_FALSE(xtnn::layer<xtnn::relu>);
    STATIC_REQUIRE_FALSE(xtnn::layer<int>);
}

TEST_CASE("concepts: activations, specs, losses and optimizers", "[core][concepts]") {
    STATIC_REQUIRE(xtnn::activation<xtnn::relu>);
    STATIC_REQUIRE(xtnn::activation<xtnn::leaky_relu>);
    STATIC_REQUIRE(xtnn::activation<xtnn::gelu>);
    STATIC_REQUIRE(xtnn::check_activation<xtnn::tanh>());
    STATIC_REQUIRE_FALSE(xtnn::activation<float_only>);
    STATIC_REQUIRE_FALSE(xtnn::activation<xtnn::dense<float>>);

    STATIC_REQUIRE(xtnn::layer_spec<xtnn::dropout>);
    STATIC_REQUIRE(xtnn::layer_spec<xtnn::flatten>);
    STATIC_REQUIRE(xtnn::layer_spec<xtnn::softmax>);
    STATIC_REQUIRE_FALSE(xtnn::layer_spec<xtnn::relu>);
    STATIC_REQUIRE(std::same_as<xtnn::bind_layer_t<xtnn::relu, double, 3>,
                                xtnn::activation_layer<xtnn::relu, double, 3>>);
    STATIC_REQUIRE(
        std::same_as<xtnn::bind_layer_t<xtnn::dropout, float, 4>, xtnn::dropout_layer<float, 4>>);
    STATIC_REQUIRE(
        std::same_as<xtnn::bind_layer_t<xtnn::dense<float>, float, 2>, xtnn::dense<float>>);

    using logits = xtnn::tensor<float, 2>;
    STATIC_REQUIRE(xtnn::loss<xtnn::softmax_cross_entropy, logits, xtnn::tensor<int, 1>>);
    STATIC_REQUIRE(xtnn::loss<xtnn::softmax_cross_entropy, logits, logits>);
    STATIC_REQUIRE(xtnn::loss<xtnn::mean_squared_error, logits, logits>);
    STATIC_REQUIRE(xtnn::loss<xtnn::huber, xtnn::tensor<double, 3>, xtnn::tensor<double, 3>>);
    STATIC_REQUIRE_FALSE(xtnn::loss<xtnn::mean_squared_error, logits, xtnn::tensor<int, 1>>);

    STATIC_REQUIRE(xtnn::optimizer<xtnn::sgd<float>>);
    STATIC_REQUIRE(xtnn::optimizer<xtnn::adam<double>>);
    STATIC_REQUIRE(xtnn::optimizer<xtnn::adamw<float>>);
    STATIC_REQUIRE(xtnn::optimizer<xtnn::rmsprop<float>>);
    STATIC_REQUIRE(xtnn::optimizer<xtnn::adagrad<float>>);
    STATIC_REQUIRE_FALSE(xtnn::optimizer<not_an_optimizer>);
}

TEST_CASE("concepts: apply runs one layer into a new tensor", "[core][concepts]") {
    xtnn::activation_layer<xtnn::relu, float, 2> relu;
    xtnn::tensor<float, 2> x = {{-1, 2}, {3, -4}};
    const auto y = xtnn::apply(relu, x);
    CHECK(xtnn::test::equal(y, xtnn::tensor<float, 2>{{0, 2}, {3, 0}}));
}
