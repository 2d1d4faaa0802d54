#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

// One 4x4 image: 0, 1, ..., 15 row by row.
xtnn::tensor<double, 4> ramp() {
    xtnn::tensor<double, 4> x(xtnn::shape<4>{1, 1, 4, 4});
    for (std::size_t i = 0; i < 16; ++i) {
        x.data()[i] = static_cast<double>(i);
    }
    return x;
}

} // namespace

TEST_CASE("pooling: max and average windows, strides and padding as PyTorch's",
          "[layers][pooling]") {
    xtnn::max_pool2d_layer<double> max2(xtnn::max_pool2d{2});
    const auto m = xtnn::apply(max2, ramp());
    CHECK(m.shape() == xtnn::shape<4>{1, 1, 2, 2});
    CHECK(std::vector<double>(m.begin(), m.end()) == std::vector<double>{5, 7, 13, 15});

    // kernel 3, stride 2, padding 1: windows centred on rows and columns 0 and 2.
    xtnn::max_pool2d_layer<double> padded(
        xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1});
    const auto p = xtnn::apply(padded, ramp());
    CHECK(std::vector<double>(p.begin(), p.end()) == std::vector<double>{5, 7, 13, 15});

    xtnn::avg_pool2d_layer<double> avg(
        xtnn::avg_pool2d{.kernel_size = 3, .stride = 2, .padding = 1});
    const auto a = xtnn::apply(avg, ramp());
    // Top-left window: 0 1 4 5 and five zeros of padding, divided by 9.
    CHECK(a(0, 0, 0, 0) == Approx(10.0 / 9));
    xtnn::avg_pool2d_layer<double> inside(
        xtnn::avg_pool2d{.kernel_size = 3, .stride = 2, .padding = 1, .count_include_pad = false});
    CHECK(xtnn::apply(inside, ramp())(0, 0, 0, 0) == Approx(10.0 / 4));

    xtnn::global_avg_pool2d_layer<double> global;
    const auto g = xtnn::apply(global, ramp());
    CHECK(g.shape() == xtnn::shape<2>{1, 1});
    CHECK(g(0, 0) == Approx(7.5));
}

TEST_CASE("pooling: max pooling propagates NaN and routes the gradient to the first maximum",
          "[layers][pooling]") {
    xtnn::max_pool2d_layer<double> pool(xtnn::max_pool2d{2});
    xtnn::tensor<double, 4> x(xtnn::shape<4>{1, 1, 2, 4});
    x.fill(1.0);
    x(0, 0, 1, 3) = std::numeric_limits<double>::quiet_NaN();
    xtnn::tensor<double, 4> y(pool.output_shape(x.shape()));
    pool.forward(x, y, xtnn::mode::training);
    CHECK(y(0, 0, 0, 0) == 1.0);
    CHECK(std::isnan(y(0, 0, 0, 1)));
    xtnn::tensor<double, 4> dy(y.shape());
    dy.fill(2.0);
    xtnn::tensor<double, 4> dx;
    pool.backward(x, y, dy, &dx);
    CHECK(dx(0, 0, 0, 0) == 2.0); // the first of four equal values
    CHECK(dx(0, 0, 0, 1) == 0.0);
    CHECK(dx(0, 0, 1, 3) == 2.0); // the NaN
}

TEST_CASE("pooling: gradients with overlapping windows, padding and odd sizes",
          "[layers][pooling]") {
    const auto x = xtnn::test::random_tensor<double, 4>({2, 3, 5, 7}, 6);
    xtnn::max_pool2d_layer<double> overlapping(
        xtnn::max_pool2d{.kernel_size = 3, .stride = 1, .padding = 1});
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(overlapping, x));
    xtnn::max_pool2d_layer<double> rectangular(xtnn::max_pool2d{.kernel_size = {2, 3}});
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(rectangular, x));
    for (const bool include : {true, false}) {
        xtnn::avg_pool2d_layer<double> avg(xtnn::avg_pool2d{
            .kernel_size = 3, .stride = {2, 1}, .padding = 1, .count_include_pad = include});
        XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(avg, x));
    }
    xtnn::global_avg_pool2d_layer<double> global;
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(global, x));
    xtnn::sequential model{xtnn::conv2d<double>{3, 4, 3}, xtnn::max_pool2d{2}, xtnn::tanh{},
                           xtnn::global_avg_pool2d{}, xtnn::dense<double>{4, 2}};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
}

TEST_CASE("pooling: windows that do not fit, and impossible options", "[layers][pooling]") {
    xtnn::max_pool2d_layer<float> pool(xtnn::max_pool2d{3});
    REQUIRE_THROWS_MATCHES(
        pool.output_shape({1, 2, 2, 9}), xtnn::shape_error,
        Catch::Message("max_pool2d::forward: the window is larger than the padded input, so "
                       "pooling leaves nothing; padded input (height, width) at least; expected "
                       "(3, 3), got (2, 9) from input (1, 2, 2, 9)"));
    REQUIRE_THROWS_WITH(pool.output_shape({1, 2, 0, 9}), Catch::Contains("the images are empty"));
    using max_layer = xtnn::max_pool2d_layer<float>;
    REQUIRE_THROWS_MATCHES(max_layer(xtnn::max_pool2d{.kernel_size = 2, .padding = 2}),
                           xtnn::config_error,
                           Catch::Message("max_pool2d: padding must be at most half the kernel "
                                          "size (as PyTorch's); got padding (2, 2) for kernel "
                                          "(2, 2)"));
    REQUIRE_THROWS_AS(max_layer(xtnn::max_pool2d{.kernel_size = 0}), xtnn::config_error);
    xtnn::global_avg_pool2d_layer<float> global;
    REQUIRE_THROWS_AS(global.output_shape({1, 1, 0, 3}), xtnn::shape_error);
}

TEST_CASE("pooling: every max pooling path picks the first maximum and the first NaN",
          "[layers][pooling]") {
    // Small integers tie often; a few NaNs. Reference: a plain scan of each window.
    auto x = xtnn::test::random_tensor<double, 4>({2, 2, 7, 9}, 11, 0.0, 3.0);
    for (auto& v : x) {
        v = std::floor(v);
    }
    x(0, 0, 2, 2) = x(0, 0, 3, 4) = x(1, 1, 5, 0) = std::numeric_limits<double>::quiet_NaN();
    for (const xtnn::max_pool2d spec :
         {xtnn::max_pool2d{2}, xtnn::max_pool2d{.kernel_size = 3, .stride = 1},
          xtnn::max_pool2d{.kernel_size = {2, 3}, .stride = {1, 2}},
          xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1}}) {
        INFO("kernel " << spec.kernel_size.height << "x" << spec.kernel_size.width << ", padding "
                       << spec.padding.height);
        xtnn::max_pool2d_layer<double> pool(spec);
        xtnn::tensor<double, 4> y(pool.output_shape(x.shape()));
        pool.forward(x, y, xtnn::mode::training);
        xtnn::tensor<double, 4> dy(y.shape());
        dy.fill(1.0);
        xtnn::tensor<double, 4> dx;
        pool.backward(x, y, dy, &dx);
        const std::size_t sh =
            spec.stride.height == 0 ? spec.kernel_size.height : spec.stride.height;
        const std::size_t sw = spec.stride.width == 0 ? spec.kernel_size.width : spec.stride.width;
        xtnn::tensor<double, 4> expected_dx = xt::zeros<double>(x.shape());
        for (std::size_t b = 0; b < 2; ++b) {
            for (std::size_t c = 0; c < 2; ++c) {
                for (std::size_t i = 0; i < y.shape()[2]; ++i) {
                    for (std::size_t j = 0; j < y.shape()[3]; ++j) {
                        bool found = false;
                        double best = 0;
                        std::size_t bu = 0, bv = 0;
                        for (std::size_t du = 0; du < spec.kernel_size.height; ++du) {
                            for (std::size_t dv = 0; dv < spec.kernel_size.width; ++dv) {
                                const auto u = static_cast<std::ptrdiff_t>(i * sh + du) -
                                               static_cast<std::ptrdiff_t>(spec.padding.height);
                                const auto v = static_cast<std::ptrdiff_t>(j * sw + dv) -
                                               static_cast<std::ptrdiff_t>(spec.padding.width);
                                if (u < 0 || v < 0 || u >= 7 || v >= 9) {
                                    continue;
                                }
                                const double value = x(b, c, static_cast<std::size_t>(u),
                                                       static_cast<std::size_t>(v));
                                const bool take = !found || (!std::isnan(best) &&
                                                             (value > best || std::isnan(value)));
                                if (take) {
                                    found = true;
                                    best = value;
                                    bu = static_cast<std::size_t>(u);
                                    bv = static_cast<std::size_t>(v);
                                }
                            }
                        }
                        if (std::isnan(best)) {
                            CHECK(std::isnan(y(b, c, i, j)));
                        } else {
                            CHECK(y(b, c, i, j) == best);
                        }
                        expected_dx(b, c, bu, bv) += 1.0;
                    }
                }
            }
        }
        CHECK((dx == expected_dx));
        // Inference takes the same maxima without remembering them: no backward follows it.
        xtnn::tensor<double, 4> inferred(y.shape());
        pool.forward(x, inferred, xtnn::mode::inference);
        for (std::size_t o = 0; o < y.size(); ++o) {
            CHECK((std::isnan(y.data()[o]) ? std::isnan(inferred.data()[o])
                                           : inferred.data()[o] == y.data()[o]));
        }
        REQUIRE_THROWS_WITH(pool.backward(x, y, dy, &dx),
                            Catch::Contains("no forward in training mode"));
    }
}

TEST_CASE("pooling: max pooling refuses images of more than 2^32 values", "[layers][pooling]") {
    // It remembers each maximum as a 32-bit index into its image.
    const xtnn::max_pool2d_layer<float> pool(xtnn::max_pool2d{2});
    REQUIRE_THROWS_MATCHES(pool.output_shape({1, 1, 65536, 65537}), xtnn::shape_error,
                           Catch::Message("max_pool2d::forward: an image (height x width) must "
                                          "hold at most 2^32 - 1 values; got input (1, 1, "
                                          "65536, 65537)"));
    CHECK(pool.output_shape({1, 1, 65535, 65537}) == xtnn::shape<4>{1, 1, 32767, 32768});
}

TEST_CASE("pooling: a relu before max pooling runs inside it, with the same results as apart",
          "[layers][pooling]") {
    using relu_layer = xtnn::activation_layer<xtnn::relu, double, 4>;
    STATIC_REQUIRE(xtnn::absorbs_activation<xtnn::max_pool2d_layer<double>, relu_layer>);
    STATIC_REQUIRE_FALSE(
        xtnn::absorbs_activation<xtnn::max_pool2d_layer<double>,
                                 xtnn::activation_layer<xtnn::leaky_relu, double, 4>>);
    STATIC_REQUIRE_FALSE(
        xtnn::absorbs_activation<xtnn::max_pool2d_layer<float>, relu_layer>); // another scalar
    // Whole numbers around 0: ties between positives, between negatives and at 0; NaN.
    auto x = xtnn::test::random_tensor<double, 4>({2, 3, 7, 8}, 5, -3.0, 3.0);
    for (auto& v : x) {
        v = std::floor(v);
    }
    x(0, 0, 1, 1) = x(1, 2, 6, 7) = std::numeric_limits<double>::quiet_NaN();
    x(1, 0, 0, 0) = -0.0;
    const auto dy_values = xtnn::test::random_tensor<double, 4>({2, 3, 7, 8}, 6, -1.0, 1.0);
    for (const xtnn::max_pool2d spec :
         {xtnn::max_pool2d{2}, xtnn::max_pool2d{3}, // 3: a row and two columns left over
          xtnn::max_pool2d{.kernel_size = 3, .stride = 1},
          xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1}}) {
        INFO("kernel " << spec.kernel_size.height << ", stride " << spec.stride.height
                       << ", padding " << spec.padding.height);
        xtnn::sequential fused{relu_layer{}, spec};
        relu_layer relu;
        xtnn::max_pool2d_layer<double> pool(spec);
        xtnn::tensor<double, 4> r(x.shape());
        relu.forward(x, r, xtnn::mode::training);
        xtnn::tensor<double, 4> y(pool.output_shape(x.shape()));
        pool.forward(r, y, xtnn::mode::training);
        xtnn::tensor<double, 4> dy(y.shape());
        std::copy_n(dy_values.begin(), dy.size(), dy.begin());
        xtnn::tensor<double, 4> dr, dx;
        pool.backward(r, y, dy, &dr);
        relu.backward(x, r, dr, &dx);

        const auto same = [](const auto& a, const auto& b) {
            REQUIRE(a.shape() == b.shape());
            for (std::size_t i = 0; i < a.size(); ++i) {
                const double u = a.data()[i], v = b.data()[i];
                if (!(std::isnan(u) ? std::isnan(v) : u == v)) {
                    FAIL_CHECK("at " << i << ": " << u << " apart, " << v << " fused");
                }
            }
        };
        same(y, fused.forward(x, xtnn::mode::inference));
        same(y, fused.forward(x, xtnn::mode::training));
        fused.backward(x, dy, true);
        same(dx, fused.input_gradient());
    }
}

TEST_CASE("pooling: the vector kernels of stride-2 windows give the scalar loop's bits",
          "[layers][pooling]") {
    // Whole numbers tie often; NaN in one plane (that plane is redone by the scalar loop);
    // widths with whole vectors of outputs, tails, a left-over column and row; windows of
    // even and odd widths, padded (the ends of each row by the scalar loop) or not.
    const xtnn::simd_level detected = xtnn::detected_simd();
    if (detected == xtnn::simd_level::portable) {
        WARN("this CPU has neither AVX2 nor AVX-512: max_pool2d uses its scalar loop only");
    }
    const auto spec =
        GENERATE(xtnn::max_pool2d{2}, xtnn::max_pool2d{.kernel_size = 2, .stride = 2, .padding = 1},
                 xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
                 xtnn::max_pool2d{.kernel_size = 3, .stride = 2},
                 xtnn::max_pool2d{.kernel_size = {2, 3}, .stride = 2, .padding = 1},
                 xtnn::max_pool2d{.kernel_size = 5, .stride = 2, .padding = 2});
    INFO("kernel " << spec.kernel_size.height << "x" << spec.kernel_size.width << ", padding "
                   << spec.padding.height);
    for (const xtnn::shape<4> s : {xtnn::shape<4>{3, 4, 26, 26}, xtnn::shape<4>{2, 2, 11, 11},
                                   xtnn::shape<4>{1, 2, 9, 70}, xtnn::shape<4>{1, 3, 5, 5}}) {
        INFO("input " << xtnn::format_shape(s));
        auto x = xtnn::test::random_tensor<float, 4>(s, 3, -3.0, 3.0);
        for (auto& v : x) {
            v = std::floor(v);
        }
        x(0, 1, 2, 3) = std::numeric_limits<float>::quiet_NaN();
        for (std::size_t u = 0; u < 2; ++u) { // windows of -inf alone: their first position wins
            for (std::size_t v = 0; v < 3; ++v) {
                x(0, 0, u, v) = -std::numeric_limits<float>::infinity();
            }
        }
        auto dy_values = xtnn::test::random_tensor<float, 4>(s, 4, -1.0, 1.0);
        // NaN and infinite gradients: multiplied by relu's derivative, 0 included, as apart.
        dy_values(0, 0, 0, 0) = std::numeric_limits<float>::quiet_NaN();
        dy_values(0, 1, 1, 2) = -std::numeric_limits<float>::infinity();
        using relu_layer = xtnn::activation_layer<xtnn::relu, float, 4>;
        using identity_layer = xtnn::activation_layer<xtnn::identity, float, 4>;
        // Each model's output, input gradient (which shows the winners) and inference output.
        const auto run = [&](auto model) {
            std::vector<xtnn::tensor<float, 4>> out;
            out.push_back(model.forward(x, xtnn::mode::training));
            xtnn::tensor<float, 4> dy(out.back().shape());
            std::copy_n(dy_values.begin(), dy.size(), dy.begin());
            model.backward(x, dy, true);
            out.push_back(model.input_gradient());
            out.push_back(model.forward(x, xtnn::mode::inference));
            return out;
        };
        const auto both = [&] {
            return std::vector{run(xtnn::sequential{relu_layer{}, spec}),
                               run(xtnn::sequential{identity_layer{}, spec})};
        };
        const auto before = xtnn::set_simd(xtnn::simd_level::portable);
        const auto expected = both();
        for (const auto level : {xtnn::simd_level::avx2, xtnn::simd_level::avx512}) {
            if (level > detected) {
                continue;
            }
            INFO(xtnn::to_string(level));
            xtnn::set_simd(level);
            const auto got = both();
            for (std::size_t m = 0; m < got.size(); ++m) {
                for (std::size_t t = 0; t < got[m].size(); ++t) {
                    INFO((m == 0 ? "relu" : "identity") << ", tensor " << t);
                    const auto& a = expected[m][t];
                    const auto& b = got[m][t];
                    REQUIRE(a.shape() == b.shape());
                    std::size_t differ = 0;
                    for (std::size_t i = 0; i < a.size(); ++i) {
                        const float u = a.data()[i], v = b.data()[i];
                        // Bit for bit (0 and -0 apart), any NaN for NaN.
                        differ += (std::isnan(u) ? std::isnan(v)
                                                 : std::bit_cast<std::uint32_t>(u) ==
                                                       std::bit_cast<std::uint32_t>(v))
                                      ? 0U
                                      : 1U;
                    }
                    CHECK(differ == 0);
                }
            }
        }
        xtnn::set_simd(before);
    }
}
