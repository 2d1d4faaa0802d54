#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/init/glorot.hpp>

#include "support/helpers.hpp"

TEST_CASE("glorot_uniform: U(-a, a) with a = sqrt(6 / (in + out))", "[init][glorot]") {
    const auto v = xtnn::test::filled<float>(xtnn::glorot_uniform{}, 100000, {784, 128}, 1);
    const double a = std::sqrt(6.0 / (784 + 128));
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.max_abs <= a);
    CHECK(s.max_abs > 0.99 * a);
    CHECK(s.mean == Approx(0).margin(0.01 * a));
    CHECK(s.stddev == Approx(a / std::sqrt(3.0)).epsilon(0.01));
}

TEST_CASE("glorot_normal: N(0, 2 / (in + out))", "[init][glorot]") {
    const auto v = xtnn::test::filled<double>(xtnn::glorot_normal{}, 100000, {300, 100}, 2);
    const auto s = xtnn::test::stats_of(v);
    CHECK(s.mean == Approx(0).margin(0.001));
    CHECK(s.stddev == Approx(std::sqrt(2.0 / 400)).epsilon(0.01));
}

TEST_CASE("glorot: the same seed gives the same values", "[init][glorot]") {
    CHECK(xtnn::test::filled<float>(xtnn::glorot_uniform{}, 50, {5, 10}, 7) ==
          xtnn::test::filled<float>(xtnn::glorot_uniform{}, 50, {5, 10}, 7));
    CHECK(xtnn::test::filled<float>(xtnn::glorot_uniform{}, 50, {5, 10}, 7) !=
          xtnn::test::filled<float>(xtnn::glorot_uniform{}, 50, {5, 10}, 8));
}
