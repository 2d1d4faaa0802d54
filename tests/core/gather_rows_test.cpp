#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/gather_rows.hpp>

#include "support/helpers.hpp"

TEST_CASE("gather_rows: copies the chosen rows in order, at any rank", "[core][gather_rows]") {
    const auto source = xtnn::test::random_tensor<float, 3>({5, 2, 3}, 1);
    const std::vector<std::size_t> rows{4, 0, 4};
    xtnn::tensor<float, 3> batch;
    xtnn::gather_rows(source, std::span<const std::size_t>(rows), batch);
    REQUIRE(batch.shape() == xtnn::shape<3>{3, 2, 3});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t i = 0; i < 2; ++i) {
            for (std::size_t j = 0; j < 3; ++j) {
                REQUIRE(batch(r, i, j) == source(rows[r], i, j));
            }
        }
    }
}

TEST_CASE("gather_rows: reuses the buffer for batches of the same size", "[core][gather_rows]") {
    xtnn::tensor<int, 1> labels = {7, 8, 9, 10};
    xtnn::tensor<int, 1> batch;
    const std::vector<std::size_t> a{0, 1}, b{3, 2}, c{1};
    xtnn::gather_rows(labels, std::span<const std::size_t>(a), batch);
    const int* storage = batch.data();
    xtnn::gather_rows(labels, std::span<const std::size_t>(b), batch);
    CHECK(batch.data() == storage);
    CHECK(xtnn::test::equal(batch, xtnn::tensor<int, 1>{10, 9}));
    xtnn::gather_rows(labels, std::span<const std::size_t>(c), batch);
    CHECK(xtnn::test::equal(batch, xtnn::tensor<int, 1>{8}));
}

TEST_CASE("gather_rows: an index past the end is an error and leaves the batch alone",
          "[core][gather_rows]") {
    xtnn::tensor<int, 1> labels = {7, 8, 9};
    xtnn::tensor<int, 1> batch = {1, 2};
    const std::vector<std::size_t> rows{0, 3};
    REQUIRE_THROWS_MATCHES(
        xtnn::gather_rows(labels, std::span<const std::size_t>(rows), batch), std::out_of_range,
        Catch::Message(
            "gather_rows: row index 3 at position 1 is out of range; expected an index below 3"));
    CHECK(xtnn::test::equal(batch, xtnn::tensor<int, 1>{1, 2}));
}

TEST_CASE("gather_rows: a large batch's rows split over two threads, copied as on one",
          "[core][gather_rows][threads]") {
    // 300 rows of 1,000 floats (1.2 MB): parts of ≥ 128 KiB (33 rows) on two threads.
    const auto source = xtnn::test::random_tensor<float, 2>({1000, 1000}, 3);
    std::vector<std::size_t> rows(300);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        rows[r] = (r * 337 + 11) % 1000;
    }
    xtnn::tensor<float, 2> one, two;
    xtnn::set_num_threads(1);
    xtnn::gather_rows(source, std::span<const std::size_t>(rows), one);
    xtnn::set_num_threads(2);
    xtnn::gather_rows(source, std::span<const std::size_t>(rows), two);
    xtnn::set_num_threads(1);
    xtnn::set_num_threads(0); // the default again
    REQUIRE(two.shape() == xtnn::shape<2>{300, 1000});
    CHECK(xtnn::test::equal(one, two));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        REQUIRE(std::equal(two.data() + r * 1000, two.data() + (r + 1) * 1000,
                           source.data() + rows[r] * 1000));
    }
}
