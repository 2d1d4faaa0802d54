#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stb_image_write.h>

#include <catch2/catch.hpp>

#include <xtnn/core/errors.hpp>

#include "digit_image.hpp"
#include "support/helpers.hpp"
#include "support/scratch_directory.hpp"

using Catch::Matchers::Contains;

namespace {

// A white page of `width` × `height` with a dark "L" (two bars) whose corner is at (x, y).
mnist::gray_image page_with_l(std::size_t width, std::size_t height, std::size_t x, std::size_t y,
                              std::size_t size) {
    mnist::gray_image image{width, height, std::vector<std::uint8_t>(width * height, 230)};
    for (std::size_t i = 0; i < size; ++i) {
        for (std::size_t t = 0; t < size / 6; ++t) {
            image.at(x + t, y - i) = 20; // the upright
            image.at(x + i, y - t) = 20; // the foot
        }
    }
    return image;
}

// The centre of mass of a 28 × 28 digit.
std::pair<double, double> centre_of_mass(const xtnn::tensor<std::uint8_t, 2>& d) {
    double mass = 0, x = 0, y = 0;
    for (std::size_t r = 0; r < 28; ++r) {
        for (std::size_t c = 0; c < 28; ++c) {
            mass += d(r, c);
            x += d(r, c) * (static_cast<double>(c) + 0.5);
            y += d(r, c) * (static_cast<double>(r) + 0.5);
        }
    }
    return {x / mass, y / mass};
}

} // namespace

TEST_CASE("to_mnist_digit: the ink is cropped, fitted to 20 × 20 and centred by mass",
          "[preprocess]") {
    const auto digit = mnist::to_mnist_digit(page_with_l(300, 200, 40, 150, 120));
    std::size_t top = 28, bottom = 0, left = 28, right = 0;
    for (std::size_t r = 0; r < 28; ++r) {
        for (std::size_t c = 0; c < 28; ++c) {
            if (digit(r, c) > 64) {
                top = std::min(top, r), bottom = std::max(bottom, r);
                left = std::min(left, c), right = std::max(right, c);
            }
        }
    }
    // A square L: 20 pixels both ways (± the resampling's soft edge).
    CHECK(bottom - top + 1 >= 19);
    CHECK(bottom - top + 1 <= 20);
    CHECK(right - left + 1 >= 19);
    const auto [cx, cy] = centre_of_mass(digit);
    CHECK(cx == Approx(14.0).margin(0.6));
    CHECK(cy == Approx(14.0).margin(0.6));
    CHECK(digit(0, 0) == 0); // background is 0, as in MNIST
}

TEST_CASE("to_mnist_digit: position, size and polarity do not change the result", "[preprocess]") {
    const auto reference = mnist::to_mnist_digit(page_with_l(300, 200, 40, 150, 120));
    // Moved: the same pixels elsewhere on a bigger page.
    CHECK(
        xtnn::test::equal(mnist::to_mnist_digit(page_with_l(640, 480, 400, 300, 120)), reference));
    // Inverted: light ink on a dark page.
    auto inverted = page_with_l(300, 200, 40, 150, 120);
    for (auto& p : inverted.pixels) {
        p = static_cast<std::uint8_t>(255 - p);
    }
    CHECK(xtnn::test::equal(mnist::to_mnist_digit(inverted), reference));
    // A tall, thin stroke keeps its aspect ratio: 20 high, a few pixels wide.
    mnist::gray_image bar{100, 100, std::vector<std::uint8_t>(100 * 100, 255)};
    for (std::size_t y = 10; y < 90; ++y) {
        for (std::size_t x = 45; x < 53; ++x) {
            bar.at(x, y) = 0;
        }
    }
    const auto thin = mnist::to_mnist_digit(bar);
    std::size_t columns_with_ink = 0;
    for (std::size_t c = 0; c < 28; ++c) {
        bool ink = false;
        for (std::size_t r = 0; r < 28; ++r) {
            ink = ink || thin(r, c) > 64;
        }
        columns_with_ink += ink ? 1 : 0;
    }
    CHECK(columns_with_ink >= 1);
    CHECK(columns_with_ink <= 3); // 8/80 of 20 = 2 pixels
}

TEST_CASE("to_mnist_digit: an image without ink is rejected", "[preprocess]") {
    mnist::gray_image blank{50, 40, std::vector<std::uint8_t>(2000, 200)};
    blank.at(10, 10) = 190; // a speck of dust is not a digit
    CHECK_THROWS_WITH(mnist::to_mnist_digit(blank),
                      Contains("no digit found; the image is nearly uniform"));
    CHECK_THROWS_AS(mnist::to_mnist_digit(mnist::gray_image{}), xtnn::io_error);
}

TEST_CASE("load_gray_image: PNG, JPEG and transparency; bad files are named", "[preprocess]") {
    xtnn::test::scratch_directory dir;
    const auto page = page_with_l(120, 90, 20, 70, 40);
    mnist::save_gray_image(page, dir.path / "l.png");
    mnist::save_gray_image(page, dir.path / "l.jpg");
    const auto png = mnist::load_gray_image(dir.path / "l.png");
    CHECK(png.width == 120);
    CHECK(png.height == 90);
    CHECK(png.pixels == page.pixels);
    const auto jpg = mnist::load_gray_image(dir.path / "l.jpg");
    REQUIRE(jpg.pixels.size() == page.pixels.size());
    CHECK(xtnn::test::max_abs_difference(mnist::to_mnist_digit(jpg), mnist::to_mnist_digit(png)) <
          60);

    // Black ink on a transparent background (a common export from drawing programs): the
    // transparent pixels are paper, not black.
    std::vector<std::uint8_t> gray_alpha(2 * page.pixels.size());
    for (std::size_t i = 0; i < page.pixels.size(); ++i) {
        gray_alpha[2 * i] = 0;
        gray_alpha[2 * i + 1] = page.pixels[i] < 128 ? 255 : 0;
    }
    REQUIRE(stbi_write_png((dir.path / "transparent.png").c_str(), 120, 90, 2, gray_alpha.data(),
                           240) != 0);
    const auto transparent = mnist::load_gray_image(dir.path / "transparent.png");
    CHECK(transparent.at(0, 0) == 255);
    CHECK(transparent.at(20, 60) == 0);
    // Contrast is stretched from paper to darkest ink, so both give the same digit.
    CHECK(xtnn::test::equal(mnist::to_mnist_digit(transparent), mnist::to_mnist_digit(png)));

    std::ofstream(dir.path / "notes.png") << "not an image";
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path / "notes.png"),
                      Contains("notes.png': not a readable image (stb_image: "));
    CHECK_THROWS_WITH(mnist::load_gray_image(dir.path / "missing.png"),
                      Contains("missing.png': no such file"));
}
