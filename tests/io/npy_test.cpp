#include <string>

#include <catch2/catch.hpp>

#include <xtnn/io/npy.hpp>

TEST_CASE("npy: the prefix is numpy's format, padded to 64 bytes", "[io][npy]") {
    const std::vector<std::size_t> shape{128, 784};
    const std::string prefix = xtnn::detail::npy_prefix("<f4", shape);
    CHECK(prefix.size() % 64 == 0);
    CHECK(prefix.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(prefix.back() == '\n');
    CHECK(prefix.find("{'descr': '<f4', 'fortran_order': False, 'shape': (128, 784), }") == 10);
    const std::vector<std::size_t> one{10};
    CHECK(xtnn::detail::npy_prefix("<f8", one).find("'shape': (10,)") != std::string::npos);
    CHECK(xtnn::detail::npy_descr<float>() == "<f4");
    CHECK(xtnn::detail::npy_descr<double>() == "<f8");
}

TEST_CASE("npy: headers parse back, in any key order", "[io][npy]") {
    const std::vector<std::size_t> shape{3, 4, 5};
    const std::string prefix = xtnn::detail::npy_prefix("<f8", shape);
    REQUIRE(xtnn::detail::npy_prefix_length(prefix) == prefix.size());
    const auto header = xtnn::detail::parse_npy_prefix(prefix);
    CHECK(header.descr == "<f8");
    CHECK_FALSE(header.fortran_order);
    CHECK(header.shape == shape);
    const auto other =
        xtnn::detail::npy_dict_parser("{\"shape\": (), \"fortran_order\": True, 'descr': '|u1'}")
            .parse();
    CHECK(other.shape.empty());
    CHECK(other.fortran_order);
    CHECK(other.descr == "|u1");
}

TEST_CASE("npy: malformed headers are rejected with a reason", "[io][npy]") {
    using xtnn::detail::npy_dict_parser;
    REQUIRE_THROWS_WITH(npy_dict_parser("{'descr': '<f4', 'shape': (2,)}").parse(),
                        Catch::Contains("lacks one of"));
    REQUIRE_THROWS_WITH(npy_dict_parser("{'descr': '<f4', 'fortran_order': Maybe").parse(),
                        Catch::Contains("expected True or False"));
    REQUIRE_THROWS_WITH(
        npy_dict_parser(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}")
            .parse(),
        Catch::Contains("overflows"));
    REQUIRE_THROWS_WITH(npy_dict_parser("{'descr': '<f4', 'color': 'red'}").parse(),
                        Catch::Contains("unknown key 'color'"));
    REQUIRE_THROWS_WITH(npy_dict_parser("{'descr: '<f4'").parse(),
                        Catch::Contains("bad .npy header"));
    REQUIRE_THROWS_WITH(xtnn::detail::npy_prefix_length("NUMPY\x01\x00\x10\x00\x00"),
                        Catch::Contains("bad magic"));
    REQUIRE_THROWS_WITH(
        xtnn::detail::npy_prefix_length(std::string("\x93NUMPY\x09\x00\x10\x00", 10)),
        Catch::Contains("unsupported .npy version 9"));
}
