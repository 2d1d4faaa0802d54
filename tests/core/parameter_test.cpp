#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/parameter.hpp>

TEST_CASE("parameter: count_values sums the sizes of the views", "[core][parameter]") {
    std::vector<float> w(12), gw(12), b(3), gb(3);
    std::vector<xtnn::parameter_view<float>> views{
        {"weight", std::span<float>(w), std::span<float>(gw), {3, 4}},
        {"bias", std::span<float>(b), std::span<float>(gb), {3}}};
    CHECK(xtnn::count_values(std::span<const xtnn::parameter_view<float>>(views)) == 15);
    CHECK(xtnn::count_values(std::span<const xtnn::parameter_view<float>>()) == 0);
}
