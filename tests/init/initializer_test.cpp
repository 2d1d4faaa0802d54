#include <catch2/catch.hpp>

#include <xtnn/init/initializer.hpp>

#include "support/helpers.hpp"

TEST_CASE("initializer: holds any initializer and fills through it", "[init][initializer]") {
    xtnn::initializer init = xtnn::he_normal{};
    CHECK(xtnn::name_of(init) == "he_normal");
    std::vector<double> a(20), b(20);
    xtnn::random_engine r1(3), r2(3);
    xtnn::fill(init, std::span<double>(a), {10, 2}, r1);
    xtnn::he_normal{}.fill(std::span<double>(b), {10, 2}, r2);
    CHECK(a == b);
    init = xtnn::constant{2.0};
    CHECK(xtnn::name_of(init) == "constant");
    xtnn::fill(init, std::span<double>(a), {10, 2}, r1);
    CHECK(a == std::vector<double>(20, 2.0));
}
