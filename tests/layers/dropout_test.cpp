#include <catch2/catch.hpp>

#include <xtnn/layers/dropout.hpp>
#include <xtnn/testing/gradient_check.hpp>

#include "support/helpers.hpp"

TEST_CASE("dropout: identity at inference", "[layers][dropout]") {
    xtnn::dropout_layer<float, 2> d(xtnn::dropout{0.5});
    STATIC_REQUIRE(xtnn::layer<decltype(d)>);
    const auto x = xtnn::test::random_tensor<float, 2>({8, 16}, 1);
    CHECK(xtnn::test::equal(xtnn::apply(d, x), x));
}

TEST_CASE("dropout: training drops the rate and scales the rest", "[layers][dropout]") {
    const double rate = 0.3;
    xtnn::dropout_layer<double, 2> d(xtnn::dropout{.rate = rate, .seed = 5});
    xtnn::tensor<double, 2> x = xt::ones<double>({200, 500});
    const auto y = xtnn::apply(d, x, xtnn::mode::training);
    std::size_t zeros = 0;
    for (double v : y) {
        if (v == 0.0) {
            ++zeros;
        } else {
            REQUIRE(v == Approx(1.0 / (1.0 - rate)));
        }
    }
    CHECK(static_cast<double>(zeros) / static_cast<double>(y.size()) == Approx(rate).margin(0.005));
    CHECK(xt::mean(y)() == Approx(1.0).margin(0.01)); // inverted dropout keeps the mean
}

TEST_CASE("dropout: masks are seeded and change every forward", "[layers][dropout]") {
    const auto x = xtnn::test::random_tensor<float, 2>({4, 33}, 2);
    xtnn::dropout_layer<float, 2> a(xtnn::dropout{0.5, 9}), b(xtnn::dropout{0.5, 9});
    const auto ya = xtnn::apply(a, x, xtnn::mode::training);
    CHECK(xtnn::test::equal(ya, xtnn::apply(b, x, xtnn::mode::training)));
    CHECK_FALSE(xtnn::test::equal(ya, xtnn::apply(a, x, xtnn::mode::training)));
}

TEST_CASE("dropout: each 64-bit draw decides two elements, low half first", "[layers][dropout]") {
    // The layout fit's training groups rely on (the whole batch's masks, drawn in the samples'
    // order), for float and double, an even and an odd element count.
    const auto check = [](auto zero, std::size_t cols) {
        using T = decltype(zero);
        const double rate = 0.3;
        xtnn::dropout_layer<T, 2> d(xtnn::dropout{.rate = rate, .seed = 11});
        xtnn::random_engine bits(11);
        const auto threshold = static_cast<std::uint64_t>(rate * 4294967296.0);
        const auto x = xtnn::test::random_tensor<T, 2>({3, cols}, 12);
        for (int pass = 0; pass < 2; ++pass) { // a new mask each forward
            const auto y = xtnn::apply(d, x, xtnn::mode::training);
            std::uint64_t draw = 0;
            for (std::size_t i = 0; i < x.size(); ++i) {
                draw = i % 2 == 0 ? bits() : draw >> 32;
                const bool kept = (draw & 0xFFFFFFFFULL) >= threshold;
                INFO("element " << i << " of " << x.size() << ", pass " << pass);
                REQUIRE(y.data()[i] ==
                        (kept ? x.data()[i] * static_cast<T>(1.0 / (1.0 - rate)) : T(0)));
            }
        }
    };
    check(0.0f, 8);
    check(0.0f, 7);
    check(0.0, 8);
    check(0.0, 7);
}

TEST_CASE("dropout: backward applies the forward's mask", "[layers][dropout]") {
    xtnn::dropout_layer<double, 3> d(xtnn::dropout{0.5, 3});
    const auto x = xtnn::test::random_tensor<double, 3>({2, 3, 5}, 4);
    xtnn::tensor<double, 3> y(x.shape());
    d.forward(x, y, xtnn::mode::training);
    const auto dy = xtnn::test::random_tensor<double, 3>({2, 3, 5}, 6);
    xtnn::tensor<double, 3> dx(x.shape());
    d.backward(x, y, dy, &dx);
    for (std::size_t i = 0; i < x.size(); ++i) {
        // y = m x and dx = m dy with the same mask m
        const double m = y.data()[i] / x.data()[i];
        REQUIRE(dx.data()[i] == Approx(m * dy.data()[i]));
    }
    // In inference mode it is the identity, and its gradient check passes.
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(d, x, {.forward_mode = xtnn::mode::inference}));
}

TEST_CASE("dropout: rate must be at least 0 and below 1", "[layers][dropout]") {
    REQUIRE_THROWS_MATCHES((xtnn::dropout_layer<float, 2>(xtnn::dropout{1.0})), xtnn::config_error,
                           Catch::Message("dropout: rate must be in [0, 1), got 1"));
    REQUIRE_THROWS_AS((xtnn::dropout_layer<float, 2>(xtnn::dropout{-0.1})), xtnn::config_error);
    xtnn::dropout_layer<float, 2> none(xtnn::dropout{0.0});
    const auto x = xtnn::test::random_tensor<float, 2>({3, 3}, 1);
    CHECK(xtnn::test::equal(xtnn::apply(none, x, xtnn::mode::training), x));
}
