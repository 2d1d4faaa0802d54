#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

using bn2 = xtnn::batch_norm_layer<double, 2>;
using bn4 = xtnn::batch_norm_layer<double, 4>;

} // namespace

TEST_CASE("batch_norm: training normalizes each channel by the batch", "[layers][batch_norm]") {
    bn2 layer(xtnn::batch_norm1d{2});
    const xtnn::tensor<double, 2> x = {{1.0, 10.0}, {3.0, 20.0}, {5.0, 60.0}};
    const auto y = xtnn::apply(layer, x, xtnn::mode::training);
    // Channel 0: mean 3, biased variance 8/3; channel 1: mean 30, variance 1400/3.
    CHECK(y(0, 0) == Approx(-2.0 / std::sqrt(8.0 / 3 + 1e-5)));
    CHECK(y(2, 1) == Approx(30.0 / std::sqrt(1400.0 / 3 + 1e-5)));
    // Running estimates move by momentum 0.1 towards the mean and the unbiased variance.
    CHECK(layer.running_mean()(0) == Approx(0.3));
    CHECK(layer.running_var()(0) == Approx(0.9 + 0.1 * 4.0));
    CHECK(layer.running_var()(1) == Approx(0.9 + 0.1 * 700.0));
    CHECK(layer.num_batches_tracked() == 1);
    // Inference uses the running estimates and changes nothing.
    const auto z = xtnn::apply(layer, x);
    CHECK(z(0, 0) == Approx((1.0 - 0.3) / std::sqrt(1.3 + 1e-5)));
    CHECK(layer.num_batches_tracked() == 1);
}

TEST_CASE("batch_norm: gradients in both modes, ranks 2 and 4, with and without options",
          "[layers][batch_norm]") {
    const xtnn::gradient_check_options training{.tolerance = 1e-5};
    const xtnn::gradient_check_options inference{.tolerance = 1e-5,
                                                 .forward_mode = xtnn::mode::inference};
    const auto x2 = xtnn::test::random_tensor<double, 2>({5, 3}, 1);
    const auto x4 = xtnn::test::random_tensor<double, 4>({2, 3, 3, 2}, 2);
    for (const bool affine : {true, false}) {
        for (const bool tracking : {true, false}) {
            INFO("affine " << affine << ", track_running_stats " << tracking);
            bn2 a(xtnn::batch_norm1d{
                .num_features = 3, .affine = affine, .track_running_stats = tracking});
            bn4 b(xtnn::batch_norm2d{
                .num_features = 3, .affine = affine, .track_running_stats = tracking});
            if (affine) {
                a.weight() = {0.5, -1.5, 2.0};
                a.bias() = {0.1, 0.2, -0.3};
                b.weight() = {1.5, 0.5, -1.0};
            }
            a.running_mean() = {0.2, -0.1, 0.4};
            a.running_var() = {0.5, 2.0, 1.5};
            b.running_var() = {1.5, 0.7, 2.5};
            XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(a, x2, training));
            XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(a, x2, inference));
            XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(b, x4, training));
            XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(b, x4, inference));
        }
    }
}

TEST_CASE("batch_norm: in a model, names and counts as PyTorch's", "[layers][batch_norm]") {
    xtnn::sequential model{xtnn::dense{4, 6}, xtnn::batch_norm1d{6}, xtnn::relu{},
                           xtnn::dense{6, 2}};
    STATIC_REQUIRE(std::same_as<decltype(model)::layer_type<1>, xtnn::batch_norm_layer<float, 2>>);
    std::vector<std::string> names;
    for (const auto& p : model.parameters()) {
        names.push_back(p.name);
    }
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight",
                                            "3.bias"});
    names.clear();
    for (const auto& b : model.buffers()) {
        names.push_back(b.name);
    }
    CHECK(names ==
          std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"});
    xtnn::sequential images{xtnn::conv2d{1, 2, 3}, xtnn::batch_norm2d{2}, xtnn::relu{}};
    STATIC_REQUIRE(std::same_as<decltype(images)::layer_type<1>, xtnn::batch_norm_layer<float, 4>>);
    CHECK(images.output_shape({3, 1, 5, 5}) == xtnn::shape<4>{3, 2, 3, 3});
    const auto s = model.summary({8, 4});
    CHECK_THAT(s, Catch::Contains("1   batch_norm1d    (batch, 6)              24\n"));
    CHECK_THAT(s, Catch::Contains("Total params: 68\nTrainable params: 56\n"
                                  "Non-trainable params: 12\n"));
}

TEST_CASE("batch_norm: wrong channels, one value per channel, bad options",
          "[layers][batch_norm]") {
    xtnn::batch_norm_layer<float, 4> layer(xtnn::batch_norm2d{3});
    xtnn::tensor<float, 4> x(xtnn::shape<4>{2, 4, 5, 5});
    REQUIRE_THROWS_MATCHES(xtnn::apply(layer, x), xtnn::shape_error,
                           Catch::Message("batch_norm2d::forward: input channels mismatch; "
                                          "expected (2, 3, 5, 5), got (2, 4, 5, 5)"));
    xtnn::batch_norm_layer<float, 2> one(xtnn::batch_norm1d{3});
    xtnn::tensor<float, 2> single(xtnn::shape<2>{1, 3});
    single.fill(1.0f);
    REQUIRE_THROWS_WITH(xtnn::apply(one, single, xtnn::mode::training),
                        Catch::Contains("training needs more than one value per channel"));
    REQUIRE_NOTHROW(xtnn::apply(one, single)); // inference is fine
    using layer1d = xtnn::batch_norm_layer<float, 2>;
    REQUIRE_THROWS_MATCHES((layer1d(xtnn::batch_norm1d{.num_features = 3, .momentum = 1.5})),
                           xtnn::config_error,
                           Catch::Message("batch_norm1d: momentum must be in [0, 1], got 1.5"));
    REQUIRE_THROWS_AS(layer1d(xtnn::batch_norm1d{}), xtnn::config_error);
}
