#include <cstddef>
#include <limits>
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

TEMPLATE_TEST_CASE("first_not_finite: the first NaN or infinity, on one thread and on two",
                   "[math][threads]", float, double) {
    // 4 MiB of floats (8 of doubles): two parts of whole 1,024-value blocks on two threads.
    std::vector<TestType> values(1 << 20, TestType(0.5));
    values[3] = std::numeric_limits<TestType>::max(); // finite: the largest and the smallest
    values[4] = std::numeric_limits<TestType>::denorm_min();
    values[5] = -std::numeric_limits<TestType>::max();
    const std::size_t n = values.size();
    const TestType bad[] = {std::numeric_limits<TestType>::quiet_NaN(),
                            std::numeric_limits<TestType>::infinity(),
                            -std::numeric_limits<TestType>::infinity()};
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
        xtnn::set_num_threads(threads);
        CHECK(xtnn::detail::first_not_finite(values.data(), n) == n);
        CHECK(xtnn::detail::first_not_finite(values.data(), 0) == 0);
        // The first of blocks and parts, a block's last value, the ragged end; a second bad
        // value later in the other part.
        for (const std::size_t at :
             {std::size_t{0}, std::size_t{1023}, std::size_t{1024}, n / 2 - 1, n / 2, n - 1}) {
            for (const TestType v : bad) {
                INFO("threads " << threads << ", at " << at << ", value " << v);
                values[at] = v;
                values[n - 1 - at % 3] = v;
                CHECK(xtnn::detail::first_not_finite(values.data(), n) ==
                      std::min(at, n - 1 - at % 3));
                CHECK(xtnn::detail::first_not_finite(values.data(), n - 7) ==
                      (at < n - 7 ? at : n - 7));
                values[at] = TestType(0.5);
                values[n - 1 - at % 3] = TestType(0.5);
            }
        }
    }
    xtnn::set_num_threads(1);
    xtnn::set_num_threads(0); // the default again
}
