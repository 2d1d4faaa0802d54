#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/init/lecun.hpp>

#include "support/helpers.hpp"

TEST_CASE("lecun_uniform: U(-a, a) with a = sqrt(3 / in)", "[init][lecun]") {
    const auto v = xtnn::test::filled<float>(xtnn::lecun_uniform{}, 100000, {64, 32}, 1);
    const double a = std::sqrt(3.0 / 64);
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.max_abs <= a);
    CHECK(s.stddev == Approx(a / std::sqrt(3.0)).epsilon(0.01));
}

TEST_CASE("lecun_normal: N(0, 1 / in)", "[init][lecun]") {
    const auto v = xtnn::test::filled<double>(xtnn::lecun_normal{}, 100000, {25, 3}, 2);
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.stddev == Approx(std::sqrt(1.0 / 25)).epsilon(0.01));
}
