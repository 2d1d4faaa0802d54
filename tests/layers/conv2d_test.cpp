#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

// The definition, summed directly: y[n, o, i, j] = b[o] + Σ W[o, c, u, v] x[n, c, i·sh - pt +
// u·dh, j·sw - pl + v·dw], zeros outside.
xtnn::tensor<double, 4> reference(const xtnn::conv2d<double>& layer,
                                  const xtnn::tensor<double, 4>& x, std::size_t pad_top,
                                  std::size_t pad_left) {
    const auto s = layer.output_shape(x.shape());
    const auto& o = layer.options();
    const auto& w = layer.weight();
    xtnn::tensor<double, 4> y(s);
    for (std::size_t n = 0; n < s[0]; ++n) {
        for (std::size_t f = 0; f < s[1]; ++f) {
            for (std::size_t i = 0; i < s[2]; ++i) {
                for (std::size_t j = 0; j < s[3]; ++j) {
                    double sum = o.bias ? layer.bias()(f) : 0.0;
                    for (std::size_t c = 0; c < x.shape()[1]; ++c) {
                        for (std::size_t u = 0; u < o.kernel_size.height; ++u) {
                            for (std::size_t v = 0; v < o.kernel_size.width; ++v) {
                                const auto r = static_cast<std::ptrdiff_t>(i * o.stride.height +
                                                                           u * o.dilation.height) -
                                               static_cast<std::ptrdiff_t>(pad_top);
                                const auto q = static_cast<std::ptrdiff_t>(j * o.stride.width +
                                                                           v * o.dilation.width) -
                                               static_cast<std::ptrdiff_t>(pad_left);
                                if (r < 0 || q < 0 ||
                                    r >= static_cast<std::ptrdiff_t>(x.shape()[2]) ||
                                    q >= static_cast<std::ptrdiff_t>(x.shape()[3])) {
                                    continue;
                                }
                                sum += w(f, c, u, v) * x(n, c, static_cast<std::size_t>(r),
                                                         static_cast<std::size_t>(q));
                            }
                        }
                    }
                    y(n, f, i, j) = sum;
                }
            }
        }
    }
    return y;
}

struct configuration {
    std::string label;
    xtnn::conv2d_options options;
    xtnn::shape<4> input;
    std::size_t pad_top, pad_left; // what the options mean, for the reference
};

std::vector<configuration> configurations() {
    return {
        {"3x3", {.in_channels = 2, .out_channels = 3, .kernel_size = 3}, {2, 2, 5, 6}, 0, 0},
        {"stride 2, padding 1, odd sizes",
         {.in_channels = 3, .out_channels = 2, .kernel_size = 3, .stride = 2, .padding = 1},
         {2, 3, 7, 5},
         1,
         1},
        {"non-square kernel, (h, w) stride and padding",
         {.in_channels = 2,
          .out_channels = 4,
          .kernel_size = {2, 3},
          .stride = {1, 2},
          .padding = {1, 0}},
         {1, 2, 4, 7},
         1,
         0},
        {"dilation 2, no bias",
         {.in_channels = 1, .out_channels = 2, .kernel_size = 3, .dilation = 2, .bias = false},
         {3, 1, 7, 6},
         0,
         0},
        {"same, even kernel (one more pad at the bottom and right)",
         {.in_channels = 2, .out_channels = 2, .kernel_size = {4, 2}, .padding = "same"},
         {2, 2, 5, 4},
         1,
         0},
        {"same, dilated",
         {.in_channels = 1,
          .out_channels = 3,
          .kernel_size = 3,
          .padding = "same",
          .dilation = {2, 1}},
         {1, 1, 6, 5},
         2,
         1},
        {"1x1", {.in_channels = 4, .out_channels = 2, .kernel_size = 1}, {2, 4, 3, 3}, 0, 0},
        // 18 taps x 20 positions per sample: workspace 1 unfolds one sample at a time, 720
        // two (chunks of 2 and 1).
        {"chunks of one sample",
         {.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = 1, .workspace = 1},
         {3, 2, 5, 4},
         1,
         1},
        {"uneven chunks",
         {.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = 1, .workspace = 720},
         {3, 2, 5, 4},
         1,
         1},
    };
}

} // namespace

TEST_CASE("conv2d: forward is the convolution's definition", "[layers][conv2d]") {
    for (const auto& c : configurations()) {
        INFO(c.label);
        auto options = c.options;
        options.bias_init = xtnn::constant{0.25};
        xtnn::conv2d<double> layer(options);
        const auto x = xtnn::test::random_tensor<double, 4>(c.input, 3);
        const auto y = xtnn::apply(layer, x);
        const auto expected = reference(layer, x, c.pad_top, c.pad_left);
        REQUIRE(y.shape() == expected.shape());
        CHECK(xtnn::test::max_abs_difference(y, expected) < 1e-12);
    }
    xtnn::conv2d<double> same(
        {.in_channels = 1, .out_channels = 1, .kernel_size = 4, .padding = "same"});
    CHECK(same.output_shape({1, 1, 9, 8}) == xtnn::shape<4>{1, 1, 9, 8});
}

TEST_CASE("conv2d: gradients for every configuration", "[layers][conv2d]") {
    for (const auto& c : configurations()) {
        INFO(c.label);
        auto options = c.options;
        options.bias_init = xtnn::constant{0.1};
        xtnn::conv2d<double> layer(options);
        const auto x = xtnn::test::random_tensor<double, 4>(c.input, 4);
        XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(layer, x));
    }
}

TEST_CASE("conv2d: in a model, PyTorch's names and layout", "[layers][conv2d]") {
    xtnn::sequential model{xtnn::conv2d{1, 4, 3}, xtnn::relu{}, xtnn::flatten{},
                           xtnn::dense{4 * 26 * 26, 10}};
    const auto params = model.parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0].name == "0.weight");
    CHECK(params[0].shape == std::vector<std::size_t>{4, 1, 3, 3});
    CHECK(params[1].name == "0.bias");
    CHECK_THAT(model.summary({1, 1, 28, 28}),
               Catch::Contains("0   conv2d          (batch, 4, 26, 26)      40\n"));
    const auto x = xtnn::test::random_tensor<double, 4>({2, 1, 6, 6}, 5);
    xtnn::sequential small{xtnn::conv2d<double>{1, 2, 3}, xtnn::tanh{}, xtnn::flatten{},
                           xtnn::dense<double>{2 * 4 * 4, 3}};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(small, x));
}

TEST_CASE("conv2d: shapes and options that cannot work are named", "[layers][conv2d]") {
    xtnn::conv2d layer{3, 8, 5};
    REQUIRE_THROWS_MATCHES(
        layer.output_shape({1, 3, 4, 9}), xtnn::shape_error,
        Catch::Message("conv2d::forward: the kernel (with dilation) is larger than the padded "
                       "input; padded input (height, width) at least; expected (5, 5), got (4, "
                       "9) from input (1, 3, 4, 9)"));
    REQUIRE_THROWS_MATCHES(layer.output_shape({1, 1, 28, 28}), xtnn::shape_error,
                           Catch::Message("conv2d::forward: input channels mismatch; expected "
                                          "(1, 3, 28, 28), got (1, 1, 28, 28)"));
    REQUIRE_THROWS_WITH((xtnn::conv2d<float>(
                            {.in_channels = 1, .out_channels = 1, .stride = 2, .padding = "same"})),
                        Catch::Contains("padding \"same\" needs stride 1"));
    REQUIRE_THROWS_WITH(
        (xtnn::conv2d<float>({.in_channels = 1, .out_channels = 1, .padding = "full"})),
        Catch::Contains("got \"full\""));
    REQUIRE_THROWS_AS(
        (xtnn::conv2d<float>({.in_channels = 1, .out_channels = 1, .kernel_size = 0})),
        xtnn::config_error);
    REQUIRE_THROWS_MATCHES(
        (xtnn::conv2d<float>({.in_channels = 1, .out_channels = 1, .padding = -1})),
        xtnn::config_error, Catch::Message("conv2d: padding must be >= 0, got -1"));
    REQUIRE_THROWS_AS((xtnn::conv2d<float>({.in_channels = 0, .out_channels = 1})),
                      xtnn::config_error);
}
