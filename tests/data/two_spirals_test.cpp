#include <cmath>
#include <numbers>

#include <catch2/catch.hpp>

#include <xtnn/data/two_spirals.hpp>

#include "support/helpers.hpp"

TEST_CASE("two_spirals: shapes, labels and seeding", "[data][two_spirals]") {
    const auto a = xtnn::make_two_spirals<float>({.samples_per_class = 50, .seed = 3});
    CHECK(a.features.shape() == xtnn::shape<2>{100, 2});
    CHECK(a.labels.shape() == xtnn::shape<1>{100});
    CHECK(a.labels(0) == 0);
    CHECK(a.labels(99) == 1);
    CHECK(xt::amax(xt::abs(a.features))() < 1.2f);
    const auto b = xtnn::make_two_spirals<float>({.samples_per_class = 50, .seed = 3});
    CHECK(xtnn::test::equal(a.features, b.features));
    const auto c = xtnn::make_two_spirals<float>({.samples_per_class = 50, .seed = 4});
    CHECK_FALSE(xtnn::test::equal(a.features, c.features));
}

TEST_CASE("two_spirals: without noise every point lies on its class's spiral",
          "[data][two_spirals]") {
    const double turns = 1.5;
    const auto d = xtnn::make_two_spirals<double>(
        {.samples_per_class = 100, .turns = turns, .noise = 0.0, .seed = 2});
    for (std::size_t i = 0; i < 200; ++i) {
        const double x = d.features(i, 0), y = d.features(i, 1);
        const double r = std::hypot(x, y);
        REQUIRE(r >= 0.1);
        REQUIRE(r < 1.0);
        const double u = (r - 0.1) / 0.9;
        const double expected =
            2 * std::numbers::pi * turns * u + static_cast<double>(d.labels(i)) * std::numbers::pi;
        // The angle of (x, y) equals the expected angle modulo 2π.
        const double diff = std::remainder(std::atan2(y, x) - expected, 2 * std::numbers::pi);
        REQUIRE(std::abs(diff) < 1e-9);
    }
}

TEST_CASE("two_spirals: impossible options are rejected", "[data][two_spirals]") {
    REQUIRE_THROWS_MATCHES(
        xtnn::make_two_spirals<float>({.samples_per_class = 0}), xtnn::config_error,
        Catch::Message("make_two_spirals: samples_per_class must be > 0, got 0"));
    REQUIRE_THROWS_AS(xtnn::make_two_spirals<float>({.noise = -1}), xtnn::config_error);
}
