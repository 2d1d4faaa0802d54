#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/init/he.hpp>

#include "support/helpers.hpp"

TEST_CASE("he_uniform: U(-a, a) with a = sqrt(6 / in)", "[init][he]") {
    const auto v = xtnn::test::filled<float>(xtnn::he_uniform{}, 100000, {784, 128}, 1);
    const double a = std::sqrt(6.0 / 784);
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.max_abs <= a);
    CHECK(s.max_abs > 0.99 * a);
    CHECK(s.stddev == Approx(a / std::sqrt(3.0)).epsilon(0.01));
}

TEST_CASE("he_normal: N(0, 2 / in), independent of fan-out", "[init][he]") {
    const auto v = xtnn::test::filled<double>(xtnn::he_normal{}, 100000, {50, 7}, 2);
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.mean == Approx(0).margin(0.003));
    CHECK(s.stddev == Approx(std::sqrt(2.0 / 50)).epsilon(0.01));
}
