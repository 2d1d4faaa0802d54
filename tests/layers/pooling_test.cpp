#include <cmath>
#include <cstddef>
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
