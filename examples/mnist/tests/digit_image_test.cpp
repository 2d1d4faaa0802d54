#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stb_image_write.h>
#include <string>
#include <vector>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <xtnn/core/errors.hpp>
#include <xtnn/vision/digits.hpp>

#include "digit_image.hpp"
#include "support/helpers.hpp"
#include "support/scratch_directory.hpp"

using Catch::Matchers::Contains;

namespace {

// A white page of `width` × `height` with a dark "L" (two bars) whose corner is at (x, y).
mnist::gray_image page_with_l(std::size_t width, std::size_t height, std::size_t x, std::size_t y,
                              std::size_t size) {
    mnist::gray_image image(xtnn::shape<2>{height, width});
    image.fill(230);
    for (std::size_t i = 0; i < size; ++i) {
        for (std::size_t t = 0; t < size / 6; ++t) {
            image(y - i, x + t) = 20; // the upright
            image(y - t, x + i) = 20; // the foot
        }
    }
    return image;
}

} // namespace

TEST_CASE("load_gray_image: PNG, JPEG and transparency, and bad files are named", "[preprocess]") {
    xtnn::test::scratch_directory dir;
    const auto page = page_with_l(120, 90, 20, 70, 40);
    mnist::save_gray_image(page, dir.path / "l.png");
    mnist::save_gray_image(page, dir.path / "l.jpg");
    const auto png = mnist::load_gray_image(dir.path / "l.png");
    CHECK(png.shape() == xtnn::shape<2>{90, 120});
    CHECK(xtnn::test::equal(png, page));
    const auto jpg = mnist::load_gray_image(dir.path / "l.jpg");
    REQUIRE(jpg.shape() == page.shape());
    CHECK(xtnn::test::max_abs_difference(jpg, page) < 40);

    // Black ink on a transparent background (a common export from drawing programs): the
    // transparent pixels are paper, not black.
    std::vector<std::uint8_t> gray_alpha(2 * page.size());
    for (std::size_t i = 0; i < page.size(); ++i) {
        gray_alpha[2 * i] = 0;
        gray_alpha[2 * i + 1] = page.data()[i] < 128 ? 255 : 0;
    }
    REQUIRE(stbi_write_png((dir.path / "transparent.png").c_str(), 120, 90, 2, gray_alpha.data(),
                           240) != 0);
    const auto transparent = mnist::load_gray_image(dir.path / "transparent.png");
    CHECK(transparent(0, 0) == 255);
    CHECK(transparent(60, 20) == 0);
    // Ink is measured against the paper around it, so both give the same digit.
    CHECK(xtnn::test::max_abs_difference(xtnn::vision::find_digits(transparent).at(0).digit,
                                         xtnn::vision::find_digits(png).at(0).digit) < 8);

    std::ofstream(dir.path / "notes.png") << "not an image";
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path / "notes.png"),
                      Contains("notes.png': not a PNG or JPEG file"));
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path), Contains("': not a regular file"));
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path / "missing.png"),
                      Contains("missing.png': no such file"));
}

namespace {

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

// A PNG chunk: length, type, data and the CRC of type and data.
void put_chunk(std::vector<std::uint8_t>& out, const char* type, std::uint32_t declared_length,
               const std::vector<std::uint8_t>& data) {
    put_u32(out, declared_length);
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put_u32(out, static_cast<std::uint32_t>(
                     crc32(0, out.data() + start, static_cast<uInt>(out.size() - start))));
}

// The start of a PNG: signature and an IHDR for an 8-bit gray image of width × height.
std::vector<std::uint8_t> png_header(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<std::uint8_t> ihdr;
    put_u32(ihdr, width);
    put_u32(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0}); // 8-bit gray, deflate, no filter, no interlace
    put_chunk(png, "IHDR", 13, ihdr);
    return png;
}

} // namespace

TEST_CASE("decode_gray_image: hostile and damaged files are refused with a reason",
          "[preprocess]") {
    using mnist::decode_gray_image;
    // The 171-byte PNG of the safety issue: an IDAT whose declared length is 2^31 or more
    // (stb_image gave no reason, and the program built a std::string from a null pointer).
    auto huge_chunk = png_header(28, 28);
    put_chunk(huge_chunk, "IDAT", 0x80000000u, std::vector<std::uint8_t>(130, 0x55));
    CHECK_THROWS_WITH(decode_gray_image(huge_chunk, "huge-chunk.png"),
                      Contains("'huge-chunk.png': not a readable PNG file (libpng, header: PNG "
                               "unsigned integer out of range)"));

    // A declared 100,000 × 100,000 image is refused from its header, before any decoding.
    auto giant = png_header(100000, 100000);
    put_chunk(giant, "IDAT", 2, {0x78, 0x9c});
    put_chunk(giant, "IEND", 0, {});
    CHECK_THROWS_WITH(decode_gray_image(giant, "giant.png"),
                      Contains("the image declares 100000 x 100000 pixels; expected at most "
                               "40000000 pixels in all"));
    CHECK_THROWS_WITH(decode_gray_image(png_header(0, 5), "empty.png"),
                      Contains("not a readable PNG file (libpng, header: "));

    // A TGA (stb_image decoded any format it knew, with no limit, into a "prediction").
    std::vector<std::uint8_t> tga(404, 0);
    tga[2] = 2;                         // uncompressed true colour
    tga[12] = tga[13] = tga[14] = 0xff; // 65535 x 65535
    tga[15] = 0xff;
    tga[16] = 24;
    CHECK_THROWS_WITH(decode_gray_image(tga, "big.tga"),
                      Contains("'big.tga': not a PNG or JPEG file (other formats are not read"));
    CHECK_THROWS_WITH(decode_gray_image({}, "nothing.png"), Contains("not a PNG or JPEG file"));

    // A JPEG whose Huffman table declares more than 256 codes (stb_image wrote out of bounds).
    std::vector<std::uint8_t> dht = {0xff, 0xd8, 0xff, 0xc4, 0x01, 0x23, 0x00};
    for (int i = 0; i < 16; ++i) {
        dht.push_back(17); // 16 × 17 = 272 codes
    }
    dht.resize(dht.size() + 272, 0x01);
    dht.insert(dht.end(), {0xff, 0xd9});
    CHECK_THROWS_WITH(decode_gray_image(dht, "dht.jpg"),
                      Contains("'dht.jpg': not a readable JPEG file (libjpeg-turbo, header: "));

    xtnn::test::scratch_directory dir;
    const auto page = page_with_l(120, 90, 20, 70, 40);
    mnist::save_gray_image(page, dir.path / "l.png");
    mnist::save_gray_image(page, dir.path / "l.jpg");
    const auto png = read_bytes(dir.path / "l.png");
    const auto jpg = read_bytes(dir.path / "l.jpg");
    REQUIRE(xtnn::test::equal(decode_gray_image(png, "l.png"), page));

    // A flipped bit in the compressed data: libpng's CRC check refuses it.
    auto bad_crc = png;
    bad_crc[png.size() - 20] ^= 0x10;
    CHECK_THROWS_WITH(decode_gray_image(bad_crc, "crc.png"),
                      Contains("not a readable PNG file (libpng, data: "));
    // Truncated files are errors, not half-decoded images.
    const std::vector<std::uint8_t> half_png(
        png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2));
    CHECK_THROWS_WITH(decode_gray_image(half_png, "half.png"),
                      Contains("not a readable PNG file (libpng, data: "));
    const std::vector<std::uint8_t> half_jpg(
        jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(jpg.size() * 9 / 10));
    CHECK_THROWS_WITH(decode_gray_image(half_jpg, "half.jpg"),
                      Contains("not a readable JPEG file (libjpeg-turbo, data: "));

    // A JPEG frame header patched to declare 60000 x 60000 pixels: refused before decoding.
    auto giant_jpg = jpg;
    for (std::size_t i = 0; i + 8 < giant_jpg.size(); ++i) {
        if (giant_jpg[i] == 0xff && giant_jpg[i + 1] == 0xc0) { // SOF0: length, precision, h, w
            giant_jpg[i + 5] = giant_jpg[i + 7] = 0xea;
            giant_jpg[i + 6] = giant_jpg[i + 8] = 0x60;
            break;
        }
    }
    CHECK_THROWS_WITH(decode_gray_image(giant_jpg, "giant.jpg"),
                      Contains("the image declares 60000 x 60000 pixels"));

    // The limits are the caller's to choose.
    CHECK_THROWS_WITH(decode_gray_image(png, "l.png", {.max_pixels = 1000}),
                      Contains("declares 120 x 90 pixels; expected at most 1000"));
    CHECK_THROWS_WITH(
        decode_gray_image(png, "l.png", {.max_file_bytes = 100}),
        Contains("the file has " + std::to_string(png.size()) + " bytes; expected at most 100"));
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path / "l.jpg", {.max_file_bytes = 100}),
                      Contains("bytes; expected at most 100"));
}
