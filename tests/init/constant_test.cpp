#include <catch2/catch.hpp>

#include <xtnn/init/constant.hpp>

#include "support/helpers.hpp"

TEST_CASE("zeros and constant fill every value", "[init][constant]") {
    CHECK(xtnn::test::filled<float>(xtnn::zeros{}, 5, {}, 0) == std::vector<float>(5, 0.0f));
    CHECK(xtnn::test::filled<double>(xtnn::constant{0.25}, 4, {}, 0) ==
          std::vector<double>(4, 0.25));
}
