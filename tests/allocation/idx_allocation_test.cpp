// A file's header must not decide how much memory xtnn allocates: IDX files whose dimensions
// promise far more data than they hold are rejected without a large allocation.
#include <cstdint>
#include <fstream>
#include <string>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <xtnn/io/idx.hpp>

#include "counter.hpp"
#include "support/scratch_directory.hpp"

namespace {

// Magic (unsigned bytes, rank 3) and extents 1,000,000 x 28 x 28: 784 MB promised.
std::string lying_header() {
    return std::string("\0\0\x08\x03\x00\x0F\x42\x40\x00\x00\x00\x1C\x00\x00\x00\x1C", 16);
}

} // namespace

TEST_CASE("allocation: a lying IDX header allocates nothing of its size", "[allocation][idx]") {
    xtnn::test::scratch_directory dir;
    const std::string data(100000, '\x20'); // 100 kB of the 784 MB promised

    const auto plain = dir.path / "plain.idx";
    std::ofstream(plain, std::ios::binary) << lying_header() << data;
    const auto plain_stats = xtnn::test::allocations_in(
        [&] { CHECK_THROWS_AS((xtnn::read_idx<std::uint8_t, 3>(plain)), xtnn::io_error); });
    CHECK(plain_stats.largest < (std::size_t{1} << 20));

    const auto packed = dir.path / "packed.idx.gz";
    gzFile file = gzopen(packed.c_str(), "wb");
    REQUIRE(file != nullptr);
    const std::string content = lying_header() + data;
    gzwrite(file, content.data(), static_cast<unsigned>(content.size()));
    REQUIRE(gzclose(file) == Z_OK);
    const auto packed_stats = xtnn::test::allocations_in(
        [&] { CHECK_THROWS_AS((xtnn::read_idx<std::uint8_t, 3>(packed)), xtnn::io_error); });
    // The buffer grows with what arrives (one 4 MiB chunk here), never to the promised size.
    CHECK(packed_stats.largest <= (std::size_t{1} << 22));
}
