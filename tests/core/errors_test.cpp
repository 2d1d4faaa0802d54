#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include <xtnn/core/errors.hpp>

TEST_CASE("errors: the types derive from the standard exceptions", "[core][errors]") {
    STATIC_REQUIRE(std::is_base_of_v<std::invalid_argument, xtnn::shape_error>);
    STATIC_REQUIRE(std::is_base_of_v<std::invalid_argument, xtnn::config_error>);
    STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, xtnn::io_error>);
}

TEST_CASE("errors: require_shape words the mismatch with both shapes", "[core][errors]") {
    const xtnn::shape<2> expected{32, 10};
    const xtnn::shape<2> got{32, 9};
    REQUIRE_NOTHROW(xtnn::detail::require_shape(expected, expected, {"loss", "value"}, "x"));
    REQUIRE_THROWS_MATCHES(
        xtnn::detail::require_shape(expected, got, {"loss", "value"}, "shapes differ"),
        xtnn::shape_error,
        Catch::Message("loss::value: shapes differ; expected (32, 10), got (32, 9)"));
    const xtnn::shape<3> other_rank{32, 10, 1};
    REQUIRE_THROWS_AS(xtnn::detail::require_shape(expected, other_rank, {"f"}, "rank"),
                      xtnn::shape_error);
}

TEST_CASE("errors: require_option names the option, the rule and the value", "[core][errors]") {
    REQUIRE_NOTHROW(xtnn::detail::require_option(true, "adam", "learning_rate", "> 0", 1.0));
    REQUIRE_THROWS_MATCHES(
        xtnn::detail::require_option(false, "adam", "learning_rate", "> 0", -0.01),
        xtnn::config_error, Catch::Message("adam: learning_rate must be > 0, got -0.01"));
}

TEST_CASE("errors: format_number is short and exact enough", "[core][errors]") {
    CHECK(xtnn::detail::format_number(0.001) == "0.001");
    CHECK(xtnn::detail::format_number(1e-10) == "1e-10");
    CHECK(xtnn::detail::format_number(-3.0) == "-3");
    CHECK(xtnn::detail::format_number(std::nan("")) == "nan");
}

TEST_CASE("errors: first_different_line names the first line that differs, whatever the ends",
          "[core][errors]") {
    using pair = std::pair<std::string, std::string>;
    CHECK_FALSE(xtnn::detail::first_different_line("a\nb\n", "a\nb\n").has_value());
    CHECK_FALSE(xtnn::detail::first_different_line("", "").has_value());
    CHECK(xtnn::detail::first_different_line("a\nb\n", "a\nc\n") == pair{"'b'", "'c'"});
    CHECK(xtnn::detail::first_different_line("a\n", "a\nb\n") == pair{"nothing", "'b'"});
    CHECK(xtnn::detail::first_different_line("a\nb\n", "a\n") == pair{"'b'", "nothing"});
    // Text without a last newline (a backup's record from a damaged or foreign file): the
    // same answer, never a read past its end.
    CHECK(xtnn::detail::first_different_line("float32", "float32\nlayer 0: relu\n") ==
          pair{"nothing", "'layer 0: relu'"});
    CHECK(xtnn::detail::first_different_line("float32\nlayer 0: relu\n", "float32") ==
          pair{"'layer 0: relu'", "nothing"});
    CHECK(xtnn::detail::first_different_line("a\nb", "a\nb\n") == std::nullopt);
}
