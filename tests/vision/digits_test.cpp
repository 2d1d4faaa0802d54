#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/layers.hpp>
#include <xtnn/model.hpp>
#include <xtnn/vision.hpp>

#include "support/helpers.hpp"

using Catch::Matchers::Contains;
using xtnn::vision::gray_image;

namespace {

gray_image page(std::size_t width, std::size_t height, std::uint8_t paper = 230) {
    gray_image image(xtnn::shape<2>{height, width});
    image.fill(paper);
    return image;
}

// Paints a dark rectangle [x0, x1) × [y0, y1).
void bar(gray_image& image, std::size_t x0, std::size_t x1, std::size_t y0, std::size_t y1,
         std::uint8_t ink = 20) {
    for (std::size_t y = y0; y < y1; ++y) {
        for (std::size_t x = x0; x < x1; ++x) {
            image(y, x) = ink;
        }
    }
}

// A square "L" of side `size` whose corner is at (x, y), strokes size / 6 wide.
void l_shape(gray_image& image, std::size_t x, std::size_t y, std::size_t size) {
    bar(image, x, x + size / 6, y + 1 - size, y + 1);
    bar(image, x, x + size, y + 1 - size / 6, y + 1);
}

std::pair<double, double> centre_of_mass(const gray_image& d) {
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

// Rows and columns holding ink above `level`.
std::pair<std::size_t, std::size_t> ink_extent(const gray_image& d, std::uint8_t level = 64) {
    std::size_t top = 28, bottom = 0, left = 28, right = 0;
    for (std::size_t r = 0; r < 28; ++r) {
        for (std::size_t c = 0; c < 28; ++c) {
            if (d(r, c) > level) {
                top = std::min(top, r), bottom = std::max(bottom, r);
                left = std::min(left, c), right = std::max(right, c);
            }
        }
    }
    return {bottom >= top ? bottom - top + 1 : 0, right >= left ? right - left + 1 : 0};
}

// Whether a found box is `expected` give or take `slack` pixels on each side (the soft edge of
// a stroke, or a reduced picture's pixel).
bool near(const xtnn::vision::box& found, const xtnn::vision::box& expected, std::size_t slack) {
    const auto close = [&](std::size_t a, std::size_t b) {
        return (a > b ? a - b : b - a) <= slack;
    };
    return close(found.x, expected.x) && close(found.y, expected.y) &&
           close(found.x + found.width, expected.x + expected.width) &&
           close(found.y + found.height, expected.y + expected.height);
}

} // namespace

TEST_CASE("find_digits: a digit is cropped, fitted to 20 x 20 and centred by mass", "[vision]") {
    auto image = page(300, 200);
    l_shape(image, 40, 150, 120);
    const auto digits = xtnn::vision::find_digits(image);
    REQUIRE(digits.size() == 1);
    const auto& digit = digits[0].digit;
    REQUIRE(digit.shape() == xtnn::shape<2>{28, 28});
    const auto [rows, columns] = ink_extent(digit);
    CHECK(rows >= 19);
    CHECK(rows <= 20);
    CHECK(columns >= 19);
    const auto [cx, cy] = centre_of_mass(digit);
    // MNIST's centre of mass is the middle of pixel (14, 14): 14.5 from the edge on average.
    CHECK(cx == Approx(14.5).margin(0.6));
    CHECK(cy == Approx(14.5).margin(0.6));
    CHECK(digit(0, 0) == 0);                                     // the background is 0, as in MNIST
    CHECK(*std::max_element(digit.begin(), digit.end()) == 255); // solid strokes saturate
    CHECK(near(digits[0].bounds, {40, 31, 120, 120}, 1));
}

TEST_CASE("find_digits: position, size, polarity, gradients and shadows change nothing",
          "[vision]") {
    auto reference_page = page(300, 200);
    l_shape(reference_page, 40, 150, 120);
    const auto reference = xtnn::vision::find_digits(reference_page).at(0).digit;
    // Moved on a bigger page.
    auto moved = page(640, 480);
    l_shape(moved, 400, 300, 120);
    CHECK(xtnn::test::equal(xtnn::vision::find_digits(moved).at(0).digit, reference));
    // Light ink on a dark board.
    auto inverted = reference_page;
    for (auto& p : inverted) {
        p = static_cast<std::uint8_t>(255 - p);
    }
    CHECK(xtnn::test::max_abs_difference(xtnn::vision::find_digits(inverted).at(0).digit,
                                         reference) <= 2);
    // Light falling from the left, and a soft shadow over the right third: the paper there is
    // darker than the ink on the left, and no threshold of the whole page could keep both.
    auto lit = reference_page;
    for (std::size_t y = 0; y < 200; ++y) {
        for (std::size_t x = 0; x < 300; ++x) {
            double light = 1.0 - 0.4 * static_cast<double>(x) / 300.0;
            light *= 1.0 - 0.5 * std::clamp((static_cast<double>(x) - 190.0) / 20.0, 0.0, 1.0);
            lit(y, x) = static_cast<std::uint8_t>(std::lround(lit(y, x) * light));
        }
    }
    REQUIRE(lit(10, 290) < reference_page(150, 40) + 100); // dark paper in the shadow
    const auto found = xtnn::vision::find_digits(lit);
    REQUIRE(found.size() == 1); // the shadow's edge is not a mark
    CHECK(xtnn::test::max_abs_difference(found[0].digit, reference) <= 40);
    CHECK(near(found[0].bounds, {40, 31, 120, 120}, 1));
}

TEST_CASE("find_digits: thin strokes keep their aspect and are thickened to MNIST's", "[vision]") {
    // A tall bar of 3 x 120 pixels: 0.5 pixels wide once fitted to 20 high.
    auto image = page(100, 160, 255);
    bar(image, 48, 51, 20, 140, 0);
    const auto thick = xtnn::vision::find_digits(image).at(0).digit;
    const auto [rows, columns] = ink_extent(thick);
    CHECK(rows >= 19);
    CHECK(columns >= 2);
    CHECK(columns <= 4);
    const auto thin = xtnn::vision::find_digits(image, {.min_stroke = 0}).at(0).digit;
    CHECK(ink_extent(thin).second <= 1);
}

TEST_CASE("find_digits: a row of digits, left to right, with broken strokes and specks",
          "[vision]") {
    auto image = page(520, 160);
    l_shape(image, 40, 130, 90);   // an L
    bar(image, 200, 214, 40, 131); // a 1
    // A "T" drawn in two strokes that do not touch: its bar above its stem.
    bar(image, 280, 370, 40, 52);
    bar(image, 318, 332, 58, 131);
    // A decimal point, and specks of dust.
    bar(image, 240, 252, 119, 131);
    bar(image, 450, 452, 20, 22);
    bar(image, 100, 101, 150, 151);
    l_shape(image, 400, 130, 90);
    const auto digits = xtnn::vision::find_digits(image);
    REQUIRE(digits.size() == 4);
    CHECK(near(digits[0].bounds, {40, 41, 90, 90}, 1));
    CHECK(near(digits[1].bounds, {200, 40, 14, 91}, 1));
    CHECK(near(digits[2].bounds, {280, 40, 90, 91}, 1));
    CHECK(near(digits[3].bounds, {400, 41, 90, 90}, 1));
    CHECK(xtnn::test::equal(digits[3].digit, digits[0].digit));
    // All the ink as one digit.
    const auto one = xtnn::vision::find_digits(image, {.single_digit = true});
    REQUIRE(one.size() == 1);
    CHECK(near(one[0].bounds, {40, 40, 450, 91}, 1));
}

TEST_CASE("find_digits: what is not a digit or a number says so", "[vision]") {
    using xtnn::vision::no_digit_error;
    using xtnn::vision::no_digit_reason;
    const auto reason = [](const gray_image& image) {
        try {
            xtnn::vision::find_digits(image);
        } catch (const no_digit_error& e) {
            return e.reason();
        }
        FAIL("no no_digit_error");
        return no_digit_reason::nothing;
    };
    auto blank = page(50, 40, 200);
    CHECK(reason(blank) == no_digit_reason::nothing);
    blank(10, 10) = 100; // a speck of dust is not a digit
    blank(30, 30) = 90;
    CHECK(reason(blank) == no_digit_reason::nothing);
    CHECK_THROWS_WITH(xtnn::vision::find_digits(blank), Contains("no digit found"));
    auto faint = page(100, 100, 200);
    bar(faint, 40, 50, 20, 80, 190); // 5 % darker than the paper: a smudge
    CHECK(reason(faint) == no_digit_reason::nothing);

    auto text = page(600, 200);
    for (std::size_t i = 0; i < 80; ++i) { // a texture of 80 dots
        bar(text, 10 + (i % 20) * 28, 22 + (i % 20) * 28, 20 + (i / 20) * 40, 32 + (i / 20) * 40);
    }
    CHECK(reason(text) == no_digit_reason::too_many_marks);
    CHECK_THROWS_WITH(xtnn::vision::find_digits(text),
                      Contains("80 separate marks; expected at most 60"));

    auto long_number = page(1000, 100);
    for (std::size_t i = 0; i < 14; ++i) {
        bar(long_number, 20 + i * 70, 34 + i * 70, 20, 80);
    }
    CHECK(reason(long_number) == no_digit_reason::too_many_digits);
    CHECK_NOTHROW(xtnn::vision::find_digits(long_number, {.max_digits = 14}));

    auto two_rows = page(300, 300);
    l_shape(two_rows, 40, 100, 80);
    l_shape(two_rows, 160, 100, 80);
    l_shape(two_rows, 100, 260, 80);
    CHECK(reason(two_rows) == no_digit_reason::several_rows);
}

TEST_CASE("find_digits and to_gray: bad input and impossible options are refused", "[vision]") {
    CHECK_THROWS_AS(xtnn::vision::find_digits(gray_image(xtnn::shape<2>{0, 5})), xtnn::shape_error);
    auto image = page(60, 60);
    l_shape(image, 10, 50, 40);
    CHECK_THROWS_WITH(xtnn::vision::find_digits(image, {.min_contrast = 1.5}),
                      Contains("min_contrast must be in (0, 1), got 1.5"));
    CHECK_THROWS_AS(xtnn::vision::find_digits(image, {.working_size = 10}), xtnn::config_error);
    CHECK_THROWS_AS(xtnn::vision::find_digits(image, {.speck_fraction = -1}), xtnn::config_error);
    CHECK_THROWS_AS(xtnn::vision::find_digits(image, {.max_digits = 0}), xtnn::config_error);
    CHECK_THROWS_AS(xtnn::vision::find_digits(image, {.min_stroke = 9}), xtnn::config_error);
    CHECK_THROWS_WITH(xtnn::vision::to_gray(xtnn::tensor<std::uint8_t, 3>(xtnn::shape<3>{2, 2, 5})),
                      Contains("expected (height, width, 1 | 2 | 3 | 4), got (2, 2, 5)"));
    CHECK_THROWS_AS(xtnn::vision::to_gray(xtnn::tensor<std::uint8_t, 3>(xtnn::shape<3>{0, 2, 3})),
                    xtnn::shape_error);
}

TEST_CASE("to_gray: colour to luma, alpha over white paper", "[vision]") {
    xtnn::tensor<std::uint8_t, 3> rgba(xtnn::shape<3>{1, 4, 4});
    const std::uint8_t pixels[] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 0, 10, 20, 30, 128};
    std::copy(std::begin(pixels), std::end(pixels), rgba.data());
    const auto gray = xtnn::vision::to_gray(rgba);
    CHECK(int{gray(0, 0)} == 76);  // 0.299 × 255
    CHECK(int{gray(0, 1)} == 150); // 0.587 × 255
    CHECK(int{gray(0, 2)} == 255); // transparent: paper
    CHECK(int{gray(0, 3)} == 136); // luma 18 half over white: (18 × 128 + 255 × 127) / 255
    xtnn::tensor<std::uint8_t, 3> one(xtnn::shape<3>{1, 2, 1});
    one(0, 0, 0) = 7;
    one(0, 1, 0) = 200;
    CHECK(xtnn::vision::to_gray(one)(0, 1) == 200);
}

TEST_CASE("find_digits: a 40-megapixel photo is reduced first, with the same digit", "[vision]") {
    auto small = page(400, 300);
    l_shape(small, 100, 250, 180);
    const auto reference = xtnn::vision::find_digits(small).at(0);
    auto big = page(4000, 3000);
    l_shape(big, 1000, 2509, 1800);
    const auto found = xtnn::vision::find_digits(big).at(0);
    CHECK(xtnn::test::max_abs_difference(found.digit, reference.digit) <= 40);
    CHECK(near(found.bounds, {1000, 710, 1800, 1800}, 10)); // a working pixel is 4 of these
}

TEST_CASE("read_number: each digit through the model, left to right, as probabilities",
          "[vision]") {
    auto image = page(400, 150);
    l_shape(image, 30, 120, 90);
    bar(image, 200, 214, 30, 121);
    // A dense model that answers 3 for an empty left half of the 28 × 28 field, else 7 (the
    // weights read the ink of the columns 0-9); a convnet of one 28 × 28 filter does the same.
    xtnn::sequential mlp{xtnn::dense<float>{784, 10}};
    mlp.layer<0>().weight().fill(0);
    mlp.layer<0>().bias().fill(0);
    mlp.layer<0>().bias()(3) = 1;
    for (std::size_t r = 0; r < 28; ++r) {
        for (std::size_t c = 0; c < 10; ++c) {
            mlp.layer<0>().weight()(7, r * 28 + c) = 1;
        }
    }
    const auto reading = xtnn::vision::read_number(mlp, image);
    REQUIRE(reading.digits.size() == 2);
    CHECK(reading.number == "73"); // the L has ink on the left, the centred bar not
    for (const auto& d : reading.digits) {
        float sum = 0;
        for (const float p : d.probabilities) {
            sum += p;
        }
        CHECK(sum == Approx(1.0f));
        CHECK(d.input.shape() == xtnn::shape<2>{28, 28});
    }
    CHECK(reading.digits[0].confidence() > 0.99f);
    CHECK(reading.digits[1].confidence() == Approx(std::exp(1.0f) / (std::exp(1.0f) + 9)));
    CHECK(near(reading.digits[1].bounds, {200, 30, 14, 91}, 1));

    xtnn::sequential conv{xtnn::conv2d<float>{1, 10, 28}, xtnn::flatten{}};
    conv.layer<0>().weight().fill(0);
    conv.layer<0>().bias().fill(0);
    conv.layer<0>().bias()(3) = 1;
    for (std::size_t r = 0; r < 28; ++r) {
        for (std::size_t c = 0; c < 10; ++c) {
            conv.layer<0>().weight()(7, 0, r, c) = 1;
        }
    }
    CHECK(xtnn::vision::read_number(conv, image).number == "73");
    CHECK_THROWS_AS(xtnn::vision::read_number(conv, page(30, 30)), xtnn::vision::no_digit_error);
}
