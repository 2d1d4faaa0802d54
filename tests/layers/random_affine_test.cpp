#include <cmath>
#include <utility>

#include <catch2/catch.hpp>

#include <xtnn/layers.hpp>
#include <xtnn/model.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

namespace {

// A batch of `n` images 1 × 28 × 28 holding a bright square [10, 18) × [10, 18).
xtnn::tensor<double, 4> squares(std::size_t n) {
    xtnn::tensor<double, 4> x(xtnn::shape<4>{n, 1, 28, 28});
    x.fill(0);
    for (std::size_t k = 0; k < n; ++k) {
        for (std::size_t i = 10; i < 18; ++i) {
            for (std::size_t j = 10; j < 18; ++j) {
                x(k, 0, i, j) = 1;
            }
        }
    }
    return x;
}

// Mass and centre of mass (row, column) of image k.
std::pair<double, std::pair<double, double>> moments(const xtnn::tensor<double, 4>& x,
                                                     std::size_t k) {
    double mass = 0, mi = 0, mj = 0;
    for (std::size_t i = 0; i < x.shape(2); ++i) {
        for (std::size_t j = 0; j < x.shape(3); ++j) {
            const double v = x(k, 0, i, j);
            mass += v;
            mi += v * static_cast<double>(i);
            mj += v * static_cast<double>(j);
        }
    }
    return {mass, {mi / mass, mj / mass}};
}

} // namespace

TEST_CASE("random_affine: the identity at inference and with no ranges", "[layers][augment]") {
    xtnn::random_affine<float> augment({.translation = 0.2, .rotation = 0.1, .zoom = 0.2});
    STATIC_REQUIRE(xtnn::layer<decltype(augment)>);
    const auto x = xtnn::test::random_tensor<float, 4>({3, 2, 9, 7}, 1);
    CHECK(xtnn::test::equal(xtnn::apply(augment, x), x));
    xtnn::random_affine<float> none;
    CHECK(xtnn::test::equal(xtnn::apply(none, x, xtnn::mode::training), x));
    xtnn::random_affine<double> d({.translation = 0.2, .rotation = 0.1, .zoom = 0.2});
    const auto xd = xtnn::test::random_tensor<double, 4>({2, 1, 5, 6}, 2);
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(d, xd, {.forward_mode = xtnn::mode::inference}));
}

TEST_CASE("random_affine: each range moves, turns or scales within its bounds",
          "[layers][augment]") {
    const auto x = squares(200);
    const auto [mass, centre] = moments(x, 0);
    SECTION("translation: the square moves by at most 0.1 of each side, about evenly") {
        xtnn::random_translation<double> shift(0.1, 3);
        const auto y = xtnn::apply(shift, x, xtnn::mode::training);
        double largest = 0, mean = 0;
        for (std::size_t k = 0; k < 200; ++k) {
            const auto [m, c] = moments(y, k);
            CHECK(m == Approx(mass).epsilon(1e-9)); // a shift inside the image keeps the ink
            const double di = c.first - centre.first, dj = c.second - centre.second;
            CHECK(std::abs(di) <= 2.8 + 1e-9);
            CHECK(std::abs(dj) <= 2.8 + 1e-9);
            largest = std::max({largest, std::abs(di), std::abs(dj)});
            mean += di / 200;
        }
        CHECK(largest > 2.0); // the range is used
        CHECK(std::abs(mean) < 0.4);
    }
    SECTION("rotation: the centre stays, the mass stays, the square turns") {
        xtnn::random_rotation<double> turn(0.125, 4); // up to 45°
        const auto y = xtnn::apply(turn, x, xtnn::mode::training);
        std::size_t turned = 0;
        for (std::size_t k = 0; k < 200; ++k) {
            const auto [m, c] = moments(y, k);
            CHECK(m == Approx(mass).epsilon(0.03)); // bilinear sampling of sharp edges
            CHECK(c.first == Approx(centre.first).margin(0.05));
            CHECK(c.second == Approx(centre.second).margin(0.05));
            // A square turned by more than a few degrees has ink beyond its old corners' rows.
            turned += y(k, 0, 9, 13) > 0.2 || y(k, 0, 13, 9) > 0.2 ? 1U : 0U;
        }
        CHECK(turned > 100);
    }
    SECTION("zoom: the mass scales with the square of the factor, within its range") {
        xtnn::random_zoom<double> zoom(0.2, 5);
        const auto y = xtnn::apply(zoom, x, xtnn::mode::training);
        double smallest = 10, largest = 0;
        for (std::size_t k = 0; k < 200; ++k) {
            const double ratio = moments(y, k).first / mass;
            smallest = std::min(smallest, ratio);
            largest = std::max(largest, ratio);
        }
        CHECK(smallest >= 0.8 * 0.8 - 0.05); // and the pixel grid
        CHECK(largest <= 1.2 * 1.2 + 0.05);
        CHECK(smallest < 0.75);
        CHECK(largest > 1.3);
    }
}

TEST_CASE("random_affine: seeded, new draws every batch, backward is forward's transpose",
          "[layers][augment]") {
    const auto x = xtnn::test::random_tensor<double, 4>({4, 2, 11, 13}, 7);
    const xtnn::random_affine_options o{
        .translation = 0.15, .rotation = 0.05, .zoom = 0.15, .seed = 9};
    xtnn::random_affine<double> a(o), b(o);
    const auto first = xtnn::apply(a, x, xtnn::mode::training);
    CHECK(xtnn::test::equal(xtnn::apply(b, x, xtnn::mode::training), first));
    CHECK(!xtnn::test::equal(xtnn::apply(a, x, xtnn::mode::training), first));
    // Both channels of an image move alike.
    xtnn::tensor<double, 4> twice(xtnn::shape<4>{1, 2, 11, 13});
    for (std::size_t i = 0; i < 11 * 13; ++i) {
        twice.data()[i] = twice.data()[11 * 13 + i] = x.data()[i];
    }
    const auto same = xtnn::apply(a, twice, xtnn::mode::training);
    CHECK(std::equal(same.data(), same.data() + 11 * 13, same.data() + 11 * 13));

    // <A x, dy> = <x, Aᵀ dy> for the transform of the last forward.
    xtnn::tensor<double, 4> y(x.shape()), dx(x.shape());
    a.forward(x, y, xtnn::mode::training);
    const auto dy = xtnn::test::random_tensor<double, 4>({4, 2, 11, 13}, 8);
    a.backward(x, y, dy, &dx);
    CHECK(xt::sum(y * dy)() == Approx(xt::sum(x * dx)()).epsilon(1e-12));
}

TEST_CASE("random_affine: ranges outside their intervals are refused", "[layers][augment]") {
    CHECK_THROWS_WITH(xtnn::random_affine<float>({.translation = 1.0}),
                      "random_affine: translation must be in [0, 1), got 1");
    CHECK_THROWS_AS(xtnn::random_affine<float>({.rotation = -0.1}), xtnn::config_error);
    CHECK_THROWS_AS(xtnn::random_zoom<float>(1.5), xtnn::config_error);
    CHECK_THROWS_AS(xtnn::random_rotation<float>(0.6), xtnn::config_error);
}

TEST_CASE("random_affine: trains first in a sequential, described, reseeded by initialize",
          "[layers][augment]") {
    xtnn::sequential model{xtnn::random_affine<float>({.translation = 0.1, .zoom = 0.1}),
                           xtnn::conv2d<float>{1, 2, 3}, xtnn::flatten{},
                           xtnn::dense<float>{2 * 4 * 4, 3}};
    CHECK(xtnn::describe(model.layer<0>()).to_string() ==
          "random_affine(translation=0.1, rotation=0, zoom=0.1)");
    CHECK(model.parameters().size() == 4); // the augmentation has none
    const auto x = xtnn::test::random_tensor<float, 4>({2, 1, 6, 6}, 3);
    model.initialize(5);
    const auto a = xtnn::apply(model.layer<0>(), x, xtnn::mode::training);
    model.initialize(5);
    CHECK(xtnn::test::equal(xtnn::apply(model.layer<0>(), x, xtnn::mode::training), a));
    model.initialize(6);
    CHECK(!xtnn::test::equal(xtnn::apply(model.layer<0>(), x, xtnn::mode::training), a));
}
