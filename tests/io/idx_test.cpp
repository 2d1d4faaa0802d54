#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <xtnn/io/idx.hpp>

#include "support/helpers.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using xtnn::test::scratch_directory;

namespace {

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// Writes `bytes` gzip-compressed, as `gzip` would.
void write_gzip(const fs::path& path, const std::string& bytes) {
    gzFile file = gzopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
}

// An IDX header: magic (0, 0, type, rank) and big-endian extents.
std::string idx_header(unsigned char type, const std::vector<std::uint32_t>& extents) {
    std::string header{'\0', '\0', static_cast<char>(type), static_cast<char>(extents.size())};
    for (const std::uint32_t e : extents) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            header += static_cast<char>((e >> shift) & 0xFF);
        }
    }
    return header;
}

template <class T, std::size_t N>
void check_round_trip(const xtnn::shape<N>& s, const fs::path& path) {
    // Values every element type holds (converting one outside a type's range is undefined).
    const double low = std::is_unsigned_v<T> ? 0.0 : -100.0;
    const auto original = xtnn::test::random_tensor<double, N>(s, 7, low, 100.0);
    xtnn::tensor<T, N> array(s);
    std::transform(original.begin(), original.end(), array.begin(),
                   [](double v) { return static_cast<T>(v); });
    xtnn::write_idx(path, array);
    const auto back = xtnn::read_idx<T, N>(path);
    CHECK(xtnn::test::equal(back, array));
    const auto header = xtnn::read_idx_header(path);
    CHECK(header.type == xtnn::detail::idx_type_of<T>());
    CHECK(header.shape == std::vector<std::size_t>(s.begin(), s.end()));
}

} // namespace

TEST_CASE("idx: every element type round-trips, plain and gzip", "[io][idx]") {
    scratch_directory dir;
    for (const std::string suffix : {".idx", ".idx.gz"}) {
        INFO(suffix);
        check_round_trip<std::uint8_t, 3>({5, 28, 28}, dir.path / ("u8" + suffix));
        check_round_trip<std::int8_t, 1>({17}, dir.path / ("i8" + suffix));
        check_round_trip<std::int16_t, 2>({3, 4}, dir.path / ("i16" + suffix));
        check_round_trip<std::int32_t, 2>({2, 9}, dir.path / ("i32" + suffix));
        check_round_trip<float, 4>({2, 1, 3, 3}, dir.path / ("f32" + suffix));
        check_round_trip<double, 1>({6}, dir.path / ("f64" + suffix));
        check_round_trip<std::uint8_t, 2>({0, 28}, dir.path / ("empty" + suffix));
    }
}

TEST_CASE("idx: the bytes on disk are the big-endian format MNIST uses", "[io][idx]") {
    scratch_directory dir;
    xtnn::tensor<std::int16_t, 2> a = {{1, -2}, {258, 0}};
    xtnn::write_idx(dir.path / "a.idx", a);
    CHECK(read_bytes(dir.path / "a.idx") ==
          idx_header(0x0B, {2, 2}) + std::string("\x00\x01\xFF\xFE\x01\x02\x00\x00", 8));

    // A file written by another program (here: by hand, then gzip) reads back.
    write_gzip(dir.path / "labels.gz", idx_header(0x08, {4}) + std::string("\x07\x02\x01\x00", 4));
    const auto labels = xtnn::read_idx<std::uint8_t, 1>(dir.path / "labels.gz");
    CHECK(xtnn::test::equal(labels, xtnn::tensor<std::uint8_t, 1>{7, 2, 1, 0}));
}

TEST_CASE("idx: compression is detected from the content, not the name", "[io][idx]") {
    scratch_directory dir;
    const xtnn::tensor<float, 1> a = {1.5f, -2.0f, 3.25f};
    xtnn::write_idx(dir.path / "a.gz", a);
    CHECK(read_bytes(dir.path / "a.gz").substr(0, 2) == "\x1f\x8b");
    fs::rename(dir.path / "a.gz", dir.path / "a.idx");
    CHECK(xtnn::test::equal(xtnn::read_idx<float, 1>(dir.path / "a.idx"), a));
}

TEST_CASE("idx: damaged and mismatched files are rejected with what was wrong", "[io][idx]") {
    scratch_directory dir;
    const fs::path file = dir.path / "bad.idx";
    const auto read_images = [&] { return xtnn::read_idx<std::uint8_t, 3>(file); };

    SECTION("missing file") {
        CHECK_THROWS_MATCHES(
            read_images(), xtnn::io_error,
            Catch::Matchers::Message("read_idx: '" + file.string() + "': no such file"));
    }
    SECTION("bad magic number") {
        write_bytes(file, "\x89PNG\r\n\x1a\n and so on");
        CHECK_THROWS_WITH(read_images(), Contains("bad.idx': not an IDX file (bad magic number"));
    }
    SECTION("unknown element type") {
        write_bytes(file, idx_header(0x07, {1}) + "x");
        CHECK_THROWS_WITH(read_images(),
                          Contains("not an IDX file (unknown element type unknown (0x07))"));
    }
    SECTION("wrong element type") {
        write_bytes(file, idx_header(0x0D, {1, 1, 1}) + std::string(4, '\0'));
        CHECK_THROWS_WITH(read_images(),
                          Contains("element type mismatch; expected unsigned byte (0x08), got "
                                   "float32 (0x0D)"));
    }
    SECTION("wrong rank") {
        write_bytes(file, idx_header(0x08, {3}) + "abc");
        CHECK_THROWS_WITH(read_images(),
                          Contains("rank mismatch; expected 3 dimensions, got 1 (3,)"));
    }
    SECTION("truncated magic number") {
        write_bytes(file, std::string("\0\0", 2));
        CHECK_THROWS_WITH(read_images(),
                          Contains("truncated header; expected 4 bytes of magic number, got 2"));
    }
    SECTION("truncated dimensions") {
        write_bytes(file, idx_header(0x08, {10, 28, 28}).substr(0, 10));
        CHECK_THROWS_WITH(read_images(), Contains("truncated header; expected 3 dimensions"));
    }
    SECTION("truncated data") {
        write_bytes(file, idx_header(0x08, {100, 28, 28}) + std::string(1000, '\x10'));
        CHECK_THROWS_WITH(read_images(),
                          Contains("truncated; dimensions (100, 28, 28) of unsigned byte (0x08) "
                                   "need 78400 bytes of data, the file holds 1000"));
    }
    SECTION("dimensions far bigger than the file") {
        write_bytes(file, idx_header(0x08, {0xFFFFFF, 0xFFFFFF, 28}) + "tiny");
        CHECK_THROWS_WITH(read_images(), Contains("the file holds 4"));
    }
    SECTION("dimensions whose product overflows") {
        write_bytes(file, idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
        CHECK_THROWS_WITH(
            (xtnn::read_idx<double, 3>(file)),
            Contains("dimensions (4294967295, 4294967295, 4294967295) are too large"));
    }
    SECTION("data after the last element") {
        write_bytes(file, idx_header(0x08, {1, 2, 2}) + "abcdEXTRA");
        CHECK_THROWS_WITH(read_images(), Contains("5 bytes of unexpected data after the 4 bytes"));
    }
    SECTION("compressed, truncated") {
        write_gzip(file, idx_header(0x08, {100, 28, 28}) + std::string(78400, '\x10'));
        const std::string whole = read_bytes(file);
        write_bytes(file, whole.substr(0, whole.size() / 2));
        CHECK_THROWS_WITH(read_images(), Contains("truncated"));
    }
    SECTION("compressed, dimensions bigger than the data") {
        // Noise does not compress: the file could hold the 784000 bytes, and holds 7840.
        xtnn::random_engine rng(5);
        std::string noise;
        for (int i = 0; i < 7840; ++i) {
            noise += static_cast<char>(rng() & 0xFF);
        }
        write_gzip(file, idx_header(0x08, {1000, 28, 28}) + noise);
        CHECK_THROWS_WITH(read_images(),
                          Contains("need 784000 bytes of data, the compressed stream holds 7840"));
    }
    SECTION("compressed, dimensions beyond what the file can inflate to") {
        // 1 GB claimed by a file of a few hundred bytes: deflate makes at most 1032 bytes of
        // one, so it is refused from the header, before any memory is set aside.
        write_gzip(file, idx_header(0x08, {1000000, 1000, 1}) + std::string(100000, '\0'));
        const auto size = fs::file_size(file);
        CHECK_THROWS_WITH(read_images(),
                          Contains("need 1000000000 bytes of data, a compressed file of " +
                                   std::to_string(size) + " bytes holds at most " +
                                   std::to_string(size * 1032 - 16)));
    }
    SECTION("a zero extent does not hide huge ones") {
        // (0, 2^32-1, 2^32-1) holds no element, but its strides overflow.
        write_bytes(file, idx_header(0x08, {0, 0xFFFFFFFF, 0xFFFFFFFF}));
        CHECK_THROWS_WITH(read_images(),
                          Contains("dimensions (0, 4294967295, 4294967295) are too large"));
    }
    SECTION("compressed, bytes after the gzip stream") {
        write_gzip(file, idx_header(0x08, {1, 2, 2}) + "abcd");
        write_bytes(file, read_bytes(file) + "trailing garbage");
        CHECK_THROWS_WITH(read_images(),
                          Contains("bad.idx': unexpected data after the end of the gzip stream"));
        write_gzip(file, idx_header(0x08, {1, 2, 2}) + "abcd");
        write_bytes(file, read_bytes(file) + "x"); // a single byte
        CHECK_THROWS_WITH(read_images(), Contains("after the end of the gzip stream"));
    }
    SECTION("compressed, more data in a second gzip member") {
        write_gzip(file, idx_header(0x08, {1, 2, 2}) + "abcd");
        const std::string first = read_bytes(file);
        write_gzip(file, "more");
        write_bytes(file, first + read_bytes(file));
        CHECK_THROWS_WITH(read_images(), Contains("unexpected data after the 4 bytes"));
    }
    SECTION("a path through a file, and a symlink loop, are named with their reason") {
        write_bytes(file, "plain");
        CHECK_THROWS_WITH((xtnn::read_idx<std::uint8_t, 1>(file / "x.idx")),
                          Contains("cannot examine the file: Not a directory"));
        fs::create_symlink("loop", dir.path / "loop");
        CHECK_THROWS_WITH((xtnn::read_idx<std::uint8_t, 1>(dir.path / "loop")),
                          Contains("cannot examine the file: Too many levels of symbolic links"));
        CHECK_THROWS_WITH((xtnn::read_idx<std::uint8_t, 1>(dir.path)),
                          Contains("is a directory, not a file"));
    }
    SECTION("compressed, corrupt") {
        std::string noise;
        xtnn::random_engine rng(3);
        for (int i = 0; i < 5000; ++i) {
            noise += static_cast<char>(rng() & 0xFF);
        }
        write_gzip(file, idx_header(0x08, {5, 28, 28}) + noise.substr(0, 3920));
        std::string whole = read_bytes(file);
        for (std::size_t i = 100; i < 200; ++i) {
            whole[i] = static_cast<char>(~whole[i]);
        }
        write_bytes(file, whole);
        CHECK_THROWS_WITH(read_images(), Contains("corrupt compressed data (zlib: "));
    }
}

TEST_CASE("idx: a file split into gzip members reads as one", "[io][idx]") {
    scratch_directory dir;
    const fs::path file = dir.path / "two.idx.gz";
    write_gzip(file, idx_header(0x08, {2, 2}) + "ab");
    const std::string first = read_bytes(file);
    write_gzip(file, "cd");
    write_bytes(file, first + read_bytes(file)); // as `cat a.gz b.gz` makes
    const auto back = xtnn::read_idx<std::uint8_t, 2>(file);
    CHECK(back(1, 1) == 'd');
}

TEST_CASE("idx: writing keeps the file's mode and writes through symlinks", "[io][idx]") {
    scratch_directory dir;
    const xtnn::tensor<float, 1> a = {1.0f};
    const fs::path target = dir.path / "private.idx";
    xtnn::write_idx(target, a);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink("private.idx", dir.path / "link.idx");
    const xtnn::tensor<float, 1> b = {2.0f, 3.0f};
    xtnn::write_idx(dir.path / "link.idx", b);
    CHECK(fs::is_symlink(dir.path / "link.idx"));
    CHECK(fs::status(target).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK((xtnn::read_idx<float, 1>(target)).size() == 2);
}

TEST_CASE("idx: a failed write leaves nothing behind and names the file", "[io][idx]") {
    scratch_directory dir;
    const fs::path file = dir.path / "missing" / "a.idx";
    const xtnn::tensor<float, 1> a = {1.0f};
    CHECK_THROWS_WITH(xtnn::write_idx(file, a),
                      Contains("write_idx: '" + file.string() + "': cannot create"));
    CHECK(fs::is_empty(dir.path));

    // An existing file is replaced whole.
    xtnn::write_idx(dir.path / "b.idx", a);
    const xtnn::tensor<float, 1> b = {2.0f, 3.0f};
    xtnn::write_idx(dir.path / "b.idx", b);
    CHECK(xtnn::test::equal(xtnn::read_idx<float, 1>(dir.path / "b.idx"), b));
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("files: a read-only file is not replaced, and a crashed save's temporaries are removed",
          "[io][idx][files]") {
    scratch_directory dir;
    const xtnn::tensor<float, 1> a = {1.0f};
    const xtnn::tensor<float, 1> b = {2.0f, 3.0f};
    const fs::path target = dir.path / "c.idx";
    xtnn::write_idx(target, a);
    fs::permissions(target, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    CHECK_THROWS_MATCHES(xtnn::write_idx(target, b), xtnn::io_error,
                         Catch::Matchers::Message("write_idx: '" + target.string() +
                                                  "': the file is read-only; it is not replaced "
                                                  "(make it writable, or write to another name)"));
    fs::permissions(target, fs::perms::owner_write, fs::perm_options::add);
    CHECK(xtnn::test::equal(xtnn::read_idx<float, 1>(target), a));

    // A save killed mid-write leaves ".c.idx.tmp<pid>-<n>"; the next save of c.idx removes it
    // when that process is gone (no process has an id above the kernel's limit of 2^22), and
    // keeps a running process's and any other file.
    const fs::path dead = dir.path / ".c.idx.tmp999999999-17";
    const fs::path running = dir.path / (".c.idx.tmp" + std::to_string(::getpid()) + "-5");
    const fs::path other = dir.path / ".c.idx.tmpnotes";
    for (const auto& path : {dead, running, other}) {
        write_bytes(path, "partial");
    }
    xtnn::write_idx(target, b);
    CHECK(!fs::exists(dead));
    CHECK(fs::exists(running));
    CHECK(fs::exists(other));
    CHECK(xtnn::test::equal(xtnn::read_idx<float, 1>(target), b));
}
