#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/random.hpp>

TEST_CASE("random: the same seed gives the same bits, another seed others", "[core][random]") {
    STATIC_REQUIRE(std::uniform_random_bit_generator<xtnn::random_engine>);
    xtnn::random_engine a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        const double ua = a.uniform();
        REQUIRE(ua == b.uniform());
        (void)c.uniform();
    }
    xtnn::random_engine d(42), e(43);
    CHECK(d() != e());
}

TEST_CASE("random: the sequence is fixed across platforms", "[core][random]") {
    // std::mt19937_64 with the default seed: its 10000th value is fixed by the standard.
    xtnn::random_engine rng(5489);
    std::uint64_t v = 0;
    for (int i = 0; i < 10000; ++i) {
        v = rng();
    }
    CHECK(v == 9981545732273789042ULL);
    // Our distributions are computed from the bits, so they are fixed too: these values were
    // recorded once and must never change (a change would alter every seeded model).
    xtnn::random_engine first(0);
    CHECK(first.uniform() == 0.15979336337046079);
    xtnn::random_engine second(0);
    const double u1 = second.uniform(), u2 = second.uniform();
    xtnn::random_engine third(0);
    // Box-Muller from the same two uniforms.
    CHECK(third.normal() ==
          Approx(std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2))
              .epsilon(1e-15));
}

TEST_CASE("random: uniform draws fill their interval evenly", "[core][random]") {
    xtnn::random_engine rng(7);
    const int n = 100000;
    double sum = 0;
    double low = 1, high = 0;
    for (int i = 0; i < n; ++i) {
        const double u = rng.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        low = std::min(low, u);
        high = std::max(high, u);
    }
    CHECK(sum / n == Approx(0.5).margin(0.005));
    CHECK(low < 1e-3);
    CHECK(high > 1 - 1e-3);
    for (int i = 0; i < 1000; ++i) {
        const float f = rng.uniform(-2.0f, 3.0f);
        REQUIRE(f >= -2.0f);
        REQUIRE(f <= 3.0f);
    }
}

TEST_CASE("random: normal draws have the asked mean and deviation", "[core][random]") {
    xtnn::random_engine rng(11);
    const int n = 200000;
    double sum = 0, squares = 0;
    for (int i = 0; i < n; ++i) {
        const double z = rng.normal(3.0, 2.0);
        REQUIRE(std::isfinite(z));
        sum += z;
        squares += z * z;
    }
    const double mean = sum / n;
    CHECK(mean == Approx(3.0).margin(0.02));
    CHECK(std::sqrt(squares / n - mean * mean) == Approx(2.0).margin(0.02));
}

TEST_CASE("random: below is unbiased and shuffle permutes", "[core][random]") {
    xtnn::random_engine rng(3);
    std::vector<int> counts(6, 0);
    for (int i = 0; i < 60000; ++i) {
        const auto k = rng.below(6);
        REQUIRE(k < 6);
        ++counts[static_cast<std::size_t>(k)];
    }
    for (int c : counts) {
        CHECK(c == Approx(10000).margin(400));
    }
    CHECK(rng.below(0) == 0);

    std::vector<int> values(50);
    std::iota(values.begin(), values.end(), 0);
    auto shuffled = values;
    xtnn::random_engine s1(9), s2(9);
    s1.shuffle(std::span<int>(shuffled));
    CHECK(shuffled != values);
    auto again = values;
    s2.shuffle(std::span<int>(again));
    CHECK(again == shuffled);
    std::sort(shuffled.begin(), shuffled.end());
    CHECK(shuffled == values);
}

TEST_CASE("random: derive_seed gives distinct streams", "[core][random]") {
    STATIC_REQUIRE(xtnn::derive_seed(0, 0) != xtnn::derive_seed(0, 1));
    STATIC_REQUIRE(xtnn::derive_seed(0, 1) != xtnn::derive_seed(1, 1));
    STATIC_REQUIRE(xtnn::derive_seed(5, 2) == xtnn::derive_seed(5, 2));
}
