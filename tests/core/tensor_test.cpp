#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/tensor.hpp>

TEST_CASE("tensor: format_shape prints shapes as tuples", "[core][tensor]") {
    CHECK(xtnn::format_shape(xtnn::shape<2>{32, 784}) == "(32, 784)");
    CHECK(xtnn::format_shape(xtnn::shape<4>{8, 1, 28, 28}) == "(8, 1, 28, 28)");
    CHECK(xtnn::format_shape(xtnn::shape<1>{10}) == "(10,)");
    CHECK(xtnn::format_shape(std::vector<std::size_t>{}) == "()");
    xtnn::tensor<float, 3> t(xtnn::shape<3>{2, 3, 4});
    CHECK(xtnn::format_shape(t.shape()) == "(2, 3, 4)");
}

TEST_CASE("tensor: size_of multiplies the extents", "[core][tensor]") {
    STATIC_REQUIRE(xtnn::size_of(xtnn::shape<3>{2, 3, 4}) == 24);
    STATIC_REQUIRE(xtnn::size_of(xtnn::shape<2>{0, 5}) == 0);
}
