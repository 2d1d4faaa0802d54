#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
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

namespace {

// Float layer `direct` and double layer `exact` with the same weights: forward, input
// gradient and parameter gradients, as the largest difference over the largest value.
struct direct_errors {
    double output = 0, input_gradient = 0, weight_gradient = 0, bias_gradient = 0;
};

template <class A, class B>
double relative_difference(const A& single, const B& exact) {
    double scale = 1e-30, largest = 0;
    for (std::size_t i = 0; i < exact.size(); ++i) {
        scale = std::max(scale, std::abs(static_cast<double>(exact.data()[i])));
        largest = std::max(largest, std::abs(static_cast<double>(single.data()[i]) -
                                             static_cast<double>(exact.data()[i])));
    }
    return largest / scale;
}

direct_errors compare_with_double(xtnn::conv2d<float>& direct, const xtnn::shape<4>& input,
                                  std::uint64_t seed, xtnn::mode m = xtnn::mode::inference) {
    xtnn::conv2d<double> exact(direct.options());
    std::copy(direct.weight().begin(), direct.weight().end(), exact.weight().begin());
    std::copy(direct.bias().begin(), direct.bias().end(), exact.bias().begin());
    const auto x = xtnn::test::random_tensor<double, 4>(input, seed);
    xtnn::tensor<float, 4> xf(input);
    std::copy(x.begin(), x.end(), xf.begin());
    const auto out = exact.output_shape(input);
    const auto dy = xtnn::test::random_tensor<double, 4>(out, seed + 1);
    xtnn::tensor<float, 4> dyf(out);
    std::copy(dy.begin(), dy.end(), dyf.begin());

    xtnn::tensor<double, 4> y(out), dx(input);
    exact.forward(x, y);
    exact.backward(x, y, dy, &dx);
    xtnn::tensor<float, 4> yf(out), dxf(input);
    direct.forward(xf, yf, m);
    direct.backward(xf, yf, dyf, &dxf);
    const auto single = direct.parameters();
    const auto reference = exact.parameters();
    direct_errors e;
    e.output = relative_difference(yf, y);
    e.input_gradient = relative_difference(dxf, dx);
    e.weight_gradient = relative_difference(single[0].gradient, reference[0].gradient);
    if (direct.options().bias) {
        e.bias_gradient = relative_difference(single[1].gradient, reference[1].gradient);
    }
    return e;
}

// Each of e's differences within `bound`.
void check_within(const direct_errors& e, double bound) {
    CHECK(e.output < bound);
    CHECK(e.input_gradient < bound);
    CHECK(e.weight_gradient < bound);
    CHECK(e.bias_gradient < bound);
}

} // namespace

TEST_CASE("conv2d: the direct kernels compute the convolution at every instruction set",
          "[layers][conv2d]") {
    auto cases = configurations();
    // Channel and filter counts on no block's boundary (4 filters a block, 8 or 16 a vector),
    // the Keras convnet's layers, a ResNet stage's, and a padded batch over two threads.
    cases.push_back({"5 -> 17, 5x5, padding (2, 1)",
                     {.in_channels = 5, .out_channels = 17, .kernel_size = 5, .padding = {2, 1}},
                     {3, 5, 9, 11},
                     2,
                     1});
    cases.push_back(
        {"1 -> 32 on 28x28", {.in_channels = 1, .out_channels = 32}, {2, 1, 28, 28}, 0, 0});
    cases.push_back(
        {"32 -> 64 on 13x13", {.in_channels = 32, .out_channels = 64}, {3, 32, 13, 13}, 0, 0});
    cases.push_back({"64 -> 64, same, on 8x8",
                     {.in_channels = 64, .out_channels = 64, .padding = "same"},
                     {2, 64, 8, 8},
                     1,
                     1});
    // Strides: resnet18's stem (7x7, stride 2), downsampling (3x3 and 1x1, stride 2), a
    // stride of 3 whose dilated taps skip phases, and strides that differ by axis.
    cases.push_back(
        {"3 -> 8, 7x7, stride 2, padding 3",
         {.in_channels = 3, .out_channels = 8, .kernel_size = 7, .stride = 2, .padding = 3},
         {2, 3, 20, 17},
         3,
         3});
    cases.push_back({"16 -> 24, 3x3, stride 2, padding 1, on 8x8",
                     {.in_channels = 16, .out_channels = 24, .stride = 2, .padding = 1},
                     {3, 16, 8, 8},
                     1,
                     1});
    cases.push_back({"16 -> 20, 1x1, stride 2",
                     {.in_channels = 16, .out_channels = 20, .kernel_size = 1, .stride = 2},
                     {2, 16, 9, 8},
                     0,
                     0});
    cases.push_back({"stride 3, dilation 2, padding (2, 1)",
                     {.in_channels = 2,
                      .out_channels = 5,
                      .kernel_size = {3, 4},
                      .stride = 3,
                      .padding = {2, 1},
                      .dilation = 2},
                     {2, 2, 13, 14},
                     2,
                     1});
    cases.push_back({"stride (2, 3), kernel (2, 5)",
                     {.in_channels = 3, .out_channels = 6, .kernel_size = {2, 5}, .stride = {2, 3}},
                     {2, 3, 9, 16},
                     0,
                     0});
    cases.push_back({"1x1, 24 -> 40",
                     {.in_channels = 24, .out_channels = 40, .kernel_size = 1},
                     {2, 24, 5, 3},
                     0,
                     0});
    // Small planes, whose output positions the forward packs at AVX-512 (a ResNet's deep
    // layers).
    cases.push_back({"12 -> 20, same, on 2x2",
                     {.in_channels = 12, .out_channels = 20, .padding = 1},
                     {8, 12, 2, 2},
                     1,
                     1});
    cases.push_back({"6 -> 9, stride 2, padding 1, 4x4 to 2x2",
                     {.in_channels = 6, .out_channels = 9, .stride = 2, .padding = 1},
                     {8, 6, 4, 4},
                     1,
                     1});
    const xtnn::simd_level detected = xtnn::detected_simd();
    if (detected == xtnn::simd_level::portable) {
        WARN("this CPU has neither AVX2 nor AVX-512: conv2d uses unfold only");
    }
    for (const auto level : {xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
        if (level > detected) {
            continue;
        }
        const auto before = xtnn::set_simd(level);
        for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
            xtnn::set_num_threads(threads);
            for (const auto& c : cases) {
                INFO(c.label << " at " << xtnn::to_string(level) << ", " << threads
                             << " thread(s)");
                auto options = c.options;
                options.bias_init = xtnn::he_uniform{}; // biases that differ
                options.seed = 7;
                options.algorithm = xtnn::conv_algorithm::direct;
                xtnn::conv2d<float> layer(options);
                const auto e = compare_with_double(layer, c.input, 11);
                CHECK(layer.algorithm() == xtnn::conv_algorithm::direct);
                check_within(e, 1e-5);
            }
        }
        xtnn::set_num_threads(1);
        xtnn::set_simd(before);
    }
}

TEST_CASE("conv2d: an infinite input reaches only the weight gradients of the taps that read "
          "it",
          "[layers][conv2d]") {
    // A first layer (few taps) reads its input unfolded, and its last vector of positions
    // reaches past the plane into rows that other taps read: input (27, 5) is read by the
    // taps (2, v) alone, but lies where tap (1, 0)'s last vector would reach.
    const xtnn::simd_level detected = xtnn::detected_simd();
    for (const auto level :
         {xtnn::simd_level::portable, xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
        if (level > detected) {
            continue;
        }
        INFO(xtnn::to_string(level));
        const auto before = xtnn::set_simd(level);
        xtnn::conv2d<float> layer({.in_channels = 1,
                                   .out_channels = 5,
                                   .bias_init = xtnn::he_uniform{},
                                   .seed = 3,
                                   .algorithm = level == xtnn::simd_level::portable
                                                    ? xtnn::conv_algorithm::unfold
                                                    : xtnn::conv_algorithm::direct});
        auto x = xtnn::test::random_tensor<float, 4>({2, 1, 28, 28}, 5);
        x(1, 0, 27, 5) = std::numeric_limits<float>::infinity();
        const auto dy = xtnn::test::random_tensor<float, 4>({2, 5, 26, 26}, 6);
        xtnn::tensor<float, 4> y({2, 5, 26, 26});
        layer.forward(x, y, xtnn::mode::training);
        layer.backward(x, y, dy, nullptr);
        const auto parameters = layer.parameters();
        const auto dw = parameters[0].gradient, db = parameters[1].gradient; // (5, 1, 3, 3), 5
        for (std::size_t f = 0; f < 5; ++f) {
            for (std::size_t u = 0; u < 3; ++u) {
                for (std::size_t v = 0; v < 3; ++v) {
                    INFO("filter " << f << ", tap (" << u << ", " << v << ")");
                    CHECK(std::isfinite(dw[f * 9 + u * 3 + v]) == (u != 2));
                }
            }
            CHECK(std::isfinite(db[f]));
        }
        xtnn::set_simd(before);
    }
}

TEST_CASE("conv2d: the direct kernels after the input shape changes", "[layers][conv2d]") {
    // The same number of values in another shape, on one thread then two: the padding moves
    // inside buffers that keep their size, and must be zeros again.
    xtnn::conv2d<float> layer({.in_channels = 2,
                               .out_channels = 5,
                               .padding = 1,
                               .bias_init = xtnn::he_uniform{},
                               .seed = 3,
                               .algorithm = xtnn::conv_algorithm::direct});
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{1}}) {
        xtnn::set_num_threads(threads);
        for (const xtnn::shape<4>& input :
             {xtnn::shape<4>{2, 2, 13, 14}, xtnn::shape<4>{2, 2, 14, 13},
              xtnn::shape<4>{2, 2, 7, 26}, xtnn::shape<4>{1, 2, 13, 14}}) {
            INFO(xtnn::format_shape(input) << ", " << threads << " thread(s)");
            const auto e = compare_with_double(layer, input, 5);
            check_within(e, 1e-5);
        }
    }
    xtnn::set_num_threads(1);
}

TEST_CASE("conv2d: unfold where asked, or where the direct kernels do not apply",
          "[layers][conv2d]") {
    xtnn::conv2d<float> asked({.in_channels = 2,
                               .out_channels = 4,
                               .padding = 1,
                               .algorithm = xtnn::conv_algorithm::unfold});
    CHECK(asked.algorithm() == xtnn::conv_algorithm::automatic); // no forward yet
    const auto x = xtnn::test::random_tensor<float, 4>({2, 2, 6, 6}, 3);
    (void)xtnn::apply(asked, x);
    CHECK(asked.algorithm() == xtnn::conv_algorithm::unfold);
    xtnn::conv2d<double> exact({.in_channels = 2, .out_channels = 4, .padding = 1});
    (void)xtnn::apply(exact, xtnn::test::random_tensor<double, 4>({2, 2, 6, 6}, 3));
    CHECK(exact.algorithm() == xtnn::conv_algorithm::unfold); // double: BLAS
    xtnn::conv2d<float> automatic({.in_channels = 2, .out_channels = 4, .padding = 1});
    const auto before = xtnn::set_simd(xtnn::simd_level::portable);
    (void)xtnn::apply(automatic, x);
    CHECK(automatic.algorithm() == xtnn::conv_algorithm::unfold);
    xtnn::set_simd(before);
    (void)xtnn::apply(automatic, x);
    CHECK(automatic.algorithm() == (xtnn::active_simd() == xtnn::simd_level::portable
                                        ? xtnn::conv_algorithm::unfold
                                        : xtnn::conv_algorithm::direct));
    if (xtnn::active_simd() == xtnn::simd_level::portable) {
        return;
    }
    // In training, automatic unfolds small planes (≤ 16 positions) and 1 x 1 kernels, where
    // one product per chunk is faster (a ResNet's deep layers); inference stays direct (a
    // sample's bits do not depend on its batch).
    const auto run = [](xtnn::conv2d<float>& layer, const xtnn::shape<4>& input, xtnn::mode m) {
        const auto in = xtnn::test::random_tensor<float, 4>(input, 5);
        xtnn::tensor<float, 4> y(layer.output_shape(input));
        layer.forward(in, y, m);
        return layer.algorithm();
    };
    const auto training = xtnn::mode::training;
    xtnn::conv2d<float> deep({.in_channels = 8, .out_channels = 8, .padding = 1});
    CHECK(run(deep, {8, 8, 2, 2}, training) == xtnn::conv_algorithm::unfold); // 8 of 2 x 2
    CHECK(run(deep, {1, 8, 2, 2}, training) == xtnn::conv_algorithm::unfold); // 1 of 2 x 2
    CHECK(run(deep, {8, 8, 5, 5}, training) == xtnn::conv_algorithm::direct); // 25 positions
    CHECK(run(deep, {8, 8, 2, 2}, xtnn::mode::inference) == xtnn::conv_algorithm::direct);
    xtnn::conv2d<float> pointwise({.in_channels = 8, .out_channels = 8, .kernel_size = 1});
    CHECK(run(pointwise, {2, 8, 6, 6}, training) == xtnn::conv_algorithm::unfold);
    CHECK(run(pointwise, {2, 8, 6, 6}, xtnn::mode::inference) == xtnn::conv_algorithm::direct);
}

TEST_CASE("conv2d: small planes pack several samples into each vector, with each sample's "
          "bits",
          "[layers][conv2d]") {
    if (xtnn::active_simd() == xtnn::simd_level::portable) {
        WARN("neither AVX2 nor AVX-512 here (the CPU, or XTNN_SIMD): conv2d uses unfold only");
        return;
    }
    // Inference on a ResNet's 2 x 2 and 4 x 4 planes (a quarter and a half of each 16-lane
    // vector in rows of the padded width) packs the positions at AVX-512, and a 2 x 2 plane
    // alone does not (its one vector holds 4 positions either way): the batch's packed sums
    // then meet the sample's unpacked ones. At AVX2's 8 lanes 7 samples save too little, and
    // a 14 x 14 plane never packs.
    const bool wide = xtnn::active_simd() == xtnn::simd_level::avx512;
    for (const std::size_t side : {std::size_t{2}, std::size_t{4}, std::size_t{14}}) {
        INFO(side << " x " << side);
        xtnn::conv2d<float> layer({.in_channels = 24,
                                   .out_channels = 10,
                                   .padding = 1,
                                   .bias_init = xtnn::he_uniform{},
                                   .seed = 5});
        const auto x = xtnn::test::random_tensor<float, 4>({7, 24, side, side}, 9);
        const auto whole = xtnn::apply(layer, x);
        CHECK(layer.packed_positions() == (side < 14 && wide));
        // Each sample alone gives the same bits: the same sums in the same order.
        for (std::size_t b = 0; b < 7; ++b) {
            xtnn::tensor<float, 4> one(xtnn::shape<4>{1, 24, side, side});
            std::copy_n(x.data() + b * one.size(), one.size(), one.data());
            const auto alone = xtnn::apply(layer, one);
            CHECK(std::equal(alone.begin(), alone.end(), whole.data() + b * alone.size()));
        }
        // And the convolution within rounding of double precision (14 x 14 runs Winograd's
        // products, whose rounding is larger).
        xtnn::conv2d<double> exact({.in_channels = 24, .out_channels = 10, .padding = 1});
        std::copy(layer.weight().begin(), layer.weight().end(), exact.weight().begin());
        std::copy(layer.bias().begin(), layer.bias().end(), exact.bias().begin());
        const auto expected = xtnn::apply(exact, xt::eval(xt::cast<double>(x)));
        CHECK(xtnn::test::max_abs_difference(whole, expected) <=
              1e-5 * xt::amax(xt::abs(expected))());
    }
}

TEST_CASE("conv2d: one sample in inference shares its work between the threads, with the same "
          "bits",
          "[layers][conv2d]") {
    if (xtnn::active_simd() == xtnn::simd_level::portable) {
        WARN("neither AVX2 nor AVX-512 here (the CPU, or XTNN_SIMD): conv2d uses unfold only");
        return;
    }
    // The direct kernels split the filters by blocks of 4 (the Keras convnet's first layer;
    // 30 filters, not a whole number of blocks), Winograd by vectors (its second layer; 64
    // filters, 4 vectors of 16 or 8 of 8 for 3 threads); a model fuses a batch norm and relu
    // into the convolution, whose epilogue each part applies to its own filters.
    struct layer_case {
        const char* label;
        xtnn::conv2d_options options;
        xtnn::shape<4> input;
        xtnn::conv_algorithm algorithm;
    };
    const std::vector<layer_case> cases{{"1 -> 30 on 28x28",
                                         {.in_channels = 1, .out_channels = 30},
                                         {1, 1, 28, 28},
                                         xtnn::conv_algorithm::direct},
                                        {"32 -> 64 on 22x22",
                                         {.in_channels = 32, .out_channels = 64},
                                         {1, 32, 22, 22},
                                         xtnn::conv_algorithm::winograd},
                                        {"64 -> 64, same, on 6x6 (F(2x2, 3x3))",
                                         {.in_channels = 64, .out_channels = 64, .padding = 1},
                                         {1, 64, 6, 6},
                                         xtnn::conv_algorithm::winograd}};
    const xtnn::simd_level detected = xtnn::detected_simd();
    for (const auto level : {xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
        if (level > detected) {
            continue;
        }
        const auto before = xtnn::set_simd(level);
        for (const auto& c : cases) {
            auto options = c.options;
            options.bias_init = xtnn::he_uniform{};
            options.seed = 3;
            xtnn::conv2d<float> layer(options);
            xtnn::sequential fused{xtnn::conv2d{options},
                                   xtnn::batch_norm2d{c.options.out_channels}, xtnn::relu{}};
            xtnn::random_engine rng(4);
            for (auto& p : fused.parameters()) { // a batch norm that is not the identity
                for (auto& v : p.value) {
                    v = rng.uniform(0.5f, 1.5f);
                }
            }
            const auto x = xtnn::test::random_tensor<float, 4>(c.input, 6, -1.0, 1.0);
            xtnn::set_num_threads(1);
            const auto one = xtnn::apply(layer, x);
            const auto fused_one = fused.forward(x, xtnn::mode::inference);
            CHECK(layer.algorithm() == c.algorithm);
            CHECK(layer.sample_threads() == 1);
            for (const std::size_t threads : {std::size_t{2}, std::size_t{3}}) {
                INFO(c.label << " at " << xtnn::to_string(level) << ", " << threads << " threads");
                xtnn::set_num_threads(threads);
                const auto shared = xtnn::apply(layer, x);
                CHECK(layer.sample_threads() == threads);
                CHECK(std::equal(shared.begin(), shared.end(), one.begin(), one.end()));
                const auto fused_shared = fused.forward(x, xtnn::mode::inference);
                CHECK(fused.fused_layers() == 2);
                CHECK(std::equal(fused_shared.begin(), fused_shared.end(), fused_one.begin(),
                                 fused_one.end()));
                // A batch of two, and training, split the samples instead.
                xtnn::tensor<float, 4> two(xtnn::shape<4>{2, c.input[1], c.input[2], c.input[3]});
                std::copy(x.begin(), x.end(), two.begin());
                std::copy(x.begin(), x.end(), two.begin() + static_cast<std::ptrdiff_t>(x.size()));
                const auto pair = xtnn::apply(layer, two);
                CHECK(layer.sample_threads() == 1);
                CHECK(std::equal(one.begin(), one.end(), pair.begin()));
                xtnn::tensor<float, 4> trained(one.shape());
                layer.forward(x, trained, xtnn::mode::training);
                CHECK(layer.sample_threads() == 1);
                // The parts' buffers then serve a training batch whole: its gradients right.
                xtnn::shape<4> batch = c.input;
                batch[0] = threads;
                check_within(compare_with_double(layer, batch, 19, xtnn::mode::training), 1e-5);
            }
        }
        xtnn::set_num_threads(0);
        xtnn::set_simd(before);
    }
}

TEST_CASE("conv2d: Winograd's F(4 x 4, 3 x 3) and F(2 x 2, 3 x 3) compute the convolution, each "
          "sample alone, and its gradients in training",
          "[layers][conv2d]") {
    if (xtnn::active_simd() == xtnn::simd_level::portable) {
        WARN("neither AVX2 nor AVX-512 here (the CPU, or XTNN_SIMD): conv2d uses unfold only");
        return;
    }
    // Whole tiles and partial ones, channels and filters on no vector's boundary, padding 0,
    // 1 and uneven, no bias, resnet18's first stage, and more than 128 channels.
    const std::vector<configuration> cases{
        {"16 -> 16, padding 1, on 16x16",
         {.in_channels = 16, .out_channels = 16, .padding = 1},
         {2, 16, 16, 16},
         1,
         1},
        {"20 -> 24 on 13x13", {.in_channels = 20, .out_channels = 24}, {3, 20, 13, 13}, 0, 0},
        {"17 -> 5, padding (2, 1), on 9x14",
         {.in_channels = 17, .out_channels = 5, .padding = {2, 1}},
         {2, 17, 9, 14},
         2,
         1},
        {"3 -> 9 without bias, on 6x7",
         {.in_channels = 3, .out_channels = 9, .bias = false},
         {2, 3, 6, 7},
         0,
         0},
        {"64 -> 64, same, on 14x14",
         {.in_channels = 64, .out_channels = 64, .padding = "same"},
         {3, 64, 14, 14},
         1,
         1},
        {"144 -> 160, same, on 5x5",
         {.in_channels = 144, .out_channels = 160, .padding = "same"},
         {2, 144, 5, 5},
         1,
         1},
        {"24 -> 40, same, on 4x4",
         {.in_channels = 24, .out_channels = 40, .padding = "same"},
         {3, 24, 4, 4},
         1,
         1},
        {"20 -> 36 on 7x8 (5x6 outputs)",
         {.in_channels = 20, .out_channels = 36},
         {2, 20, 7, 8},
         0,
         0},
        {"256 -> 256, same, on 4x4",
         {.in_channels = 256, .out_channels = 256, .padding = "same"},
         {2, 256, 4, 4},
         1,
         1}};
    // Asked for: F(2 x 2, 3 x 3) on planes of 3 x 3 to 36 positions, else F(4 x 4, 3 x 3).
    const auto tile_for = [](std::size_t height, std::size_t width) {
        return height >= 3 && width >= 3 && height * width <= 36 ? 2u : 4u;
    };
    const xtnn::simd_level detected = xtnn::detected_simd();
    for (const auto level : {xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
        if (level > detected) {
            continue;
        }
        const auto before = xtnn::set_simd(level);
        for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
            xtnn::set_num_threads(threads);
            for (const auto& c : cases) {
                INFO(c.label << " at " << xtnn::to_string(level) << ", " << threads
                             << " thread(s)");
                auto options = c.options;
                options.bias_init = xtnn::he_uniform{};
                options.seed = 7;
                options.algorithm = xtnn::conv_algorithm::winograd;
                xtnn::conv2d<float> layer(options);
                options.algorithm = xtnn::conv_algorithm::automatic;
                xtnn::conv2d<double> exact(options);
                std::copy(layer.weight().begin(), layer.weight().end(), exact.weight().begin());
                std::copy(layer.bias().begin(), layer.bias().end(), exact.bias().begin());
                const auto x = xtnn::test::random_tensor<float, 4>(c.input, 11, -1.0, 1.0);
                const auto whole = xtnn::apply(layer, x);
                CHECK(layer.algorithm() == xtnn::conv_algorithm::winograd);
                const auto planes = whole.shape();
                CHECK(layer.winograd_tile() == tile_for(planes[2], planes[3]));
                const auto expected =
                    reference(exact, xt::eval(xt::cast<double>(x)), c.pad_top, c.pad_left);
                const double scale = xt::amax(xt::abs(expected))();
                CHECK(xtnn::test::max_abs_difference(whole, expected) <= 1e-5 * scale);
                // Each sample alone: the same bits, whatever the batch.
                xtnn::shape<4> one_shape = c.input;
                one_shape[0] = 1;
                for (std::size_t b = 0; b < c.input[0]; ++b) {
                    xtnn::tensor<float, 4> one(one_shape);
                    std::copy_n(x.data() + b * one.size(), one.size(), one.data());
                    const auto alone = xtnn::apply(layer, one);
                    CHECK(std::equal(alone.begin(), alone.end(), whole.data() + b * alone.size()));
                }
                // New weights are transformed again before the next forward.
                layer.weight() *= -2.0f;
                exact.weight() *= -2.0;
                const auto changed = xtnn::apply(layer, x);
                const auto changed_expected =
                    reference(exact, xt::eval(xt::cast<double>(x)), c.pad_top, c.pad_left);
                CHECK(xtnn::test::max_abs_difference(changed, changed_expected) <=
                      1e-5 * xt::amax(xt::abs(changed_expected))());
                // In training: the forward, the input gradient and the weight gradient by
                // Winograd.
                const auto e = compare_with_double(layer, c.input, 13, xtnn::mode::training);
                CHECK(layer.algorithm() == xtnn::conv_algorithm::winograd);
                CHECK(layer.gradient_algorithm() == xtnn::conv_algorithm::winograd);
                CHECK(layer.weight_gradient_algorithm() == xtnn::conv_algorithm::winograd);
                CHECK(layer.gradient_winograd_tile() == tile_for(c.input[2], c.input[3]));
                check_within(e, 1e-5);
            }
        }
        xtnn::set_num_threads(1);
        xtnn::set_simd(before);
    }
    // The forward and the weight gradient by Winograd, the input gradient by the direct
    // kernels: 32 filters back to 16 channels are too few for automatic; padding 3 would
    // need the output gradient padded by -1.
    const auto winograd = xtnn::conv_algorithm::winograd;
    const std::vector<std::pair<xtnn::conv2d_options, xtnn::shape<4>>> mixed{
        {{.in_channels = 16, .out_channels = 32, .padding = 1}, {2, 16, 16, 16}},
        {{.in_channels = 20, .out_channels = 24, .padding = 3, .algorithm = winograd},
         {3, 20, 9, 9}}};
    for (const auto& [options, input] : mixed) {
        for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
            INFO(options.in_channels << " -> " << options.out_channels << ", padding "
                                     << options.padding.height << ", " << threads << " thread(s)");
            xtnn::set_num_threads(threads);
            xtnn::conv2d<float> layer(options);
            const auto e = compare_with_double(layer, input, 17, xtnn::mode::training);
            CHECK(layer.algorithm() == winograd);
            CHECK(layer.weight_gradient_algorithm() == winograd);
            CHECK(layer.gradient_algorithm() == xtnn::conv_algorithm::direct);
            check_within(e, 1e-5);
        }
    }
    xtnn::set_num_threads(1);
    // The transformed filters are laid out by the vector width: another instruction set
    // transforms the same weights again.
    if (detected == xtnn::simd_level::avx512) {
        xtnn::conv2d<float> layer({.in_channels = 20,
                                   .out_channels = 40,
                                   .padding = 1,
                                   .algorithm = xtnn::conv_algorithm::winograd});
        const auto x = xtnn::test::random_tensor<float, 4>({1, 20, 8, 8}, 3, -1.0, 1.0);
        const auto before = xtnn::set_simd(xtnn::simd_level::avx512);
        const auto wide = xtnn::apply(layer, x);
        xtnn::set_simd(xtnn::simd_level::avx2);
        const auto narrow = xtnn::apply(layer, x);
        xtnn::set_simd(before);
        CHECK(xtnn::test::max_abs_difference(wide, narrow) <= 1e-5 * xt::amax(xt::abs(wide))());
    }
}

TEST_CASE("conv2d: automatic runs Winograd where it measured faster", "[layers][conv2d]") {
    if (xtnn::active_simd() == xtnn::simd_level::portable) {
        WARN("neither AVX2 nor AVX-512 here (the CPU, or XTNN_SIMD): conv2d uses unfold only");
        return;
    }
    // The forward's algorithm, then the input gradient's.
    std::size_t tile = 0; // the last run's Winograd tile
    const auto run = [&tile](xtnn::conv2d_options options, const xtnn::shape<4>& input,
                             xtnn::mode m) {
        xtnn::conv2d<float> layer(options);
        const auto x = xtnn::test::random_tensor<float, 4>(input, 5);
        xtnn::tensor<float, 4> y(layer.output_shape(input));
        layer.forward(x, y, m);
        tile = layer.winograd_tile();
        return std::pair{layer.algorithm(), layer.gradient_algorithm()};
    };
    const auto inference = xtnn::mode::inference, training = xtnn::mode::training;
    const auto winograd = xtnn::conv_algorithm::winograd, direct = xtnn::conv_algorithm::direct;
    const std::pair both{winograd, winograd}, neither{direct, direct};
    const std::pair forward_only{winograd, direct};
    const xtnn::conv2d_options stage{.in_channels = 64, .out_channels = 64, .padding = 1};
    CHECK(run(stage, {1, 64, 56, 56}, inference) == forward_only); // resnet18's first stage
    CHECK(tile == 4);
    CHECK(run(stage, {1, 64, 56, 56}, training) == both);
    CHECK(tile == 4);
    CHECK(run(stage, {1, 64, 7, 7}, inference) == forward_only); // 49 outputs
    CHECK(tile == 4);
    // Planes of 3 x 3 to 36 positions: F(2 x 2, 3 x 3).
    CHECK(run(stage, {1, 64, 6, 6}, inference) == forward_only);
    CHECK(tile == 2);
    CHECK(run(stage, {1, 64, 5, 5}, inference) == forward_only);
    CHECK(tile == 2);
    CHECK(run(stage, {1, 64, 3, 3}, inference) == forward_only);
    CHECK(tile == 2);
    CHECK(run(stage, {1, 64, 2, 2}, inference) == neither); // 4 positions: the direct kernels
    CHECK(tile == 0);
    CHECK(run(stage, {1, 64, 2, 9}, inference) == neither); // rows of 2: half a tile wasted
    CHECK(run({.in_channels = 8, .out_channels = 64, .padding = 1}, {1, 8, 32, 32}, training) ==
          neither); // too few channels (and, for the input gradient, filters)
    CHECK(run({.in_channels = 16, .out_channels = 16, .padding = 1}, {1, 16, 32, 32},
              training) == neither); // too few filters
    // The Keras convnet's second layer; its input gradient has 32 filters of 64 channels.
    CHECK(run({.in_channels = 32, .out_channels = 64}, {1, 32, 13, 13}, training) == both);
    CHECK(run({.in_channels = 64, .out_channels = 16, .padding = 1}, {1, 64, 32, 32}, training) ==
          std::pair{direct, winograd}); // 16 filters, 64 "filters" back
    // Many channels: 48 positions or more (the transformed filters are read from memory),
    // up to 256 x 256 channels and filters.
    const xtnn::conv2d_options wide{.in_channels = 256, .out_channels = 256, .padding = 1};
    CHECK(run(wide, {1, 256, 14, 14}, training) == both); // resnet18's third stage, 224 x 224
    CHECK(run(wide, {1, 256, 7, 7}, inference) == forward_only); // 49 positions
    CHECK(tile == 4);
    CHECK(run(wide, {1, 256, 6, 6}, inference) == forward_only); // 36: F(2 x 2, 3 x 3)
    CHECK(tile == 2);
    // resnet18's third stage on 64 x 64 images: F(2 x 2, 3 x 3) in inference; training
    // unfolds planes of at most 16 positions (the filters would be transformed every step).
    CHECK(run(wide, {8, 256, 4, 4}, inference) == forward_only);
    CHECK(tile == 2);
    const auto unfold = xtnn::conv_algorithm::unfold;
    CHECK(run(wide, {8, 256, 4, 4}, training) == std::pair{unfold, unfold});
    CHECK(tile == 0);
    CHECK(run(wide, {8, 256, 2, 2}, training) == std::pair{unfold, unfold});
    CHECK(run({.in_channels = 128, .out_channels = 128, .padding = 1}, {1, 128, 8, 8},
              training) == both); // resnet18's second stage, 64 x 64
    CHECK(run({.in_channels = 512, .out_channels = 512, .padding = 1}, {1, 512, 14, 14},
              inference) == neither); // transformed filters of 36 MB
    CHECK(run({.in_channels = 512, .out_channels = 512, .padding = 1}, {1, 512, 4, 4},
              inference) == neither); // 16 MB for F(2 x 2, 3 x 3)
    CHECK(run({.in_channels = 64, .out_channels = 64, .stride = 2, .padding = 1}, {1, 64, 32, 32},
              training) == neither);
    CHECK(run({.in_channels = 64, .out_channels = 64, .padding = 1, .dilation = 2}, {1, 64, 32, 32},
              training) == neither);
    CHECK(run({.in_channels = 64, .out_channels = 64, .padding = 3}, {1, 64, 32, 32},
              training) == forward_only); // the input gradient would need padding -1
    CHECK(run({.in_channels = 64,
               .out_channels = 64,
               .padding = 1,
               .algorithm = xtnn::conv_algorithm::direct},
              {1, 64, 32, 32}, training) == neither);
    // Asked for, it runs on any 3 x 3 layer of stride 1.
    const xtnn::conv2d_options asked{
        .in_channels = 2, .out_channels = 3, .algorithm = xtnn::conv_algorithm::winograd};
    CHECK(run(asked, {1, 2, 5, 5}, inference) == forward_only);
    CHECK(tile == 2); // 3 x 3 outputs
    CHECK(run(asked, {1, 2, 8, 8}, training) == both);
    CHECK(tile == 2); // 6 x 6 outputs
    CHECK(run(asked, {1, 2, 9, 9}, training) == both);
    CHECK(tile == 4); // 7 x 7
}
