#include <cstdint>
#include <set>
#include <stb_image.h>
#include <string>

#include <catch2/catch.hpp>

#include "pictures.hpp"
#include "support/scratch_directory.hpp"

namespace {

struct png_facts {
    int width = 0, height = 0;
    std::size_t colours = 0; // distinct RGB values
};

// Decodes a PNG fully (stb_image rejects broken files) and describes it.
png_facts read_png(const std::filesystem::path& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    REQUIRE(file != nullptr);
    unsigned char signature[8] = {};
    REQUIRE(std::fread(signature, 1, 8, file) == 8);
    std::fclose(file);
    CHECK(std::string(reinterpret_cast<char*>(signature), 8) == "\x89PNG\r\n\x1a\n");
    png_facts facts;
    int channels = 0;
    unsigned char* pixels = stbi_load(path.c_str(), &facts.width, &facts.height, &channels, 3);
    REQUIRE(pixels != nullptr);
    std::set<std::uint32_t> colours;
    for (int i = 0; i < facts.width * facts.height; ++i) {
        colours.insert(std::uint32_t{pixels[3 * i]} << 16 | std::uint32_t{pixels[3 * i + 1]} << 8 |
                       pixels[3 * i + 2]);
    }
    stbi_image_free(pixels);
    facts.colours = colours.size();
    return facts;
}

mnist::labelled_digit digit(int predicted, int truth, std::uint8_t level) {
    xtnn::tensor<std::uint8_t, 2> pixels(xtnn::shape<2>{28, 28});
    pixels.fill(0);
    for (std::size_t r = 6; r < 22; ++r) {
        pixels(r, 13) = pixels(r, 14) = level;
    }
    return {pixels, predicted, truth};
}

} // namespace

TEST_CASE("pictures: the digit grid is a valid PNG of the documented size", "[pictures]") {
    xtnn::test::scratch_directory dir;
    std::vector<mnist::labelled_digit> digits;
    for (int i = 0; i < 23; ++i) {
        digits.push_back(digit(i % 10, i % 7 == 0 ? (i + 1) % 10 : i % 10, 255));
    }
    mnist::draw_digit_grid(digits, 10, "Twenty-three digits", dir.path / "grid.png");
    const auto facts = read_png(dir.path / "grid.png");
    CHECK(facts.width == 10 * 96);
    CHECK(facts.height == 40 + 3 * 110);
    CHECK(facts.colours > 20); // text, digits, red frames: not a blank page

    mnist::draw_digit_grid({}, 10, "No mistakes", dir.path / "empty.png");
    CHECK(read_png(dir.path / "empty.png").height == 40 + 110);
}

TEST_CASE("pictures: training curves and confusion matrix are valid PNGs", "[pictures]") {
    xtnn::test::scratch_directory dir;
    xtnn::history history;
    for (std::size_t e = 0; e < 4; ++e) {
        const double f = static_cast<double>(e);
        history.append(e, {{"loss", 1.0 / (f + 1)},
                           {"accuracy", 0.8 + 0.04 * f},
                           {"val_loss", 1.1 / (f + 1)},
                           {"val_accuracy", 0.79 + 0.035 * f}});
    }
    mnist::draw_training_curves(history, dir.path / "curves.png");
    auto facts = read_png(dir.path / "curves.png");
    CHECK(facts.width == 1000);
    CHECK(facts.height == 420);
    CHECK(facts.colours > 20);

    xtnn::tensor<std::uint64_t, 2> counts(xtnn::shape<2>{10, 10});
    counts.fill(1);
    for (std::size_t i = 0; i < 10; ++i) {
        counts(i, i) = 90;
    }
    mnist::draw_confusion_matrix(counts, dir.path / "confusion.png");
    facts = read_png(dir.path / "confusion.png");
    CHECK(facts.width == 640);
    CHECK(facts.height == 640);
    CHECK(facts.colours > 20);

    CHECK_THROWS_WITH(mnist::draw_confusion_matrix(counts, dir.path / "no" / "such" / "dir.png"),
                      Catch::Matchers::Contains("cannot write the PNG"));
}
