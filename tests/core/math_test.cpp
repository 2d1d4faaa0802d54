#include <span>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

TEST_CASE("argmax: the index of the largest value, the first on ties", "[math]") {
    const std::vector<float> scores{0.1f, 0.7f, -2.0f, 0.7f, 0.2f};
    CHECK(xtnn::argmax(std::span<const float>(scores)) == 1);
    const std::vector<double> one{-5.0};
    CHECK(xtnn::argmax(std::span<const double>(one)) == 0);
    const std::vector<int> rising{1, 2, 3};
    CHECK(xtnn::argmax(std::span<const int>(rising)) == 2);
    CHECK_THROWS_AS(xtnn::argmax(std::span<const float>()), std::invalid_argument);
}
