#include "digit_image.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#include <string>

#include <xtnn/core/errors.hpp>

namespace mnist {

namespace {

std::string where(const char* function, const std::filesystem::path& path) {
    return std::string(function) + ": '" + path.string() + "'";
}

// The median of the pixels on the image's border: the paper's level.
std::uint8_t border_level(const gray_image& image) {
    std::vector<std::uint8_t> border;
    for (std::size_t x = 0; x < image.width; ++x) {
        border.push_back(image.at(x, 0));
        border.push_back(image.at(x, image.height - 1));
    }
    for (std::size_t y = 1; y + 1 < image.height; ++y) {
        border.push_back(image.at(0, y));
        border.push_back(image.at(image.width - 1, y));
    }
    const auto middle = border.begin() + static_cast<std::ptrdiff_t>(border.size() / 2);
    std::nth_element(border.begin(), middle, border.end());
    return *middle;
}

} // namespace

gray_image load_gray_image(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        throw xtnn::io_error(where("load_image", path) + ": no such file");
    }
    int width = 0, height = 0, channels = 0;
    // Gray + alpha: a transparent background must become paper, not black.
    std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> data(
        stbi_load(path.c_str(), &width, &height, &channels, 2), &stbi_image_free);
    if (!data) {
        throw xtnn::io_error(where("load_image", path) +
                             ": not a readable image (stb_image: " + stbi_failure_reason() + ")");
    }
    gray_image image{static_cast<std::size_t>(width), static_cast<std::size_t>(height), {}};
    image.pixels.resize(image.width * image.height);
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
        const int gray = data.get()[2 * i], alpha = data.get()[2 * i + 1];
        image.pixels[i] =
            static_cast<std::uint8_t>((gray * alpha + 255 * (255 - alpha) + 127) / 255);
    }
    return image;
}

void save_gray_image(const gray_image& image, const std::filesystem::path& path) {
    const auto extension = path.extension().string();
    const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
    const int ok = extension == ".jpg" || extension == ".jpeg"
                       ? stbi_write_jpg(path.c_str(), w, h, 1, image.pixels.data(), 90)
                       : stbi_write_png(path.c_str(), w, h, 1, image.pixels.data(), w);
    if (ok == 0) {
        throw xtnn::io_error(where("save_image", path) + ": cannot write the file");
    }
}

gray_image from_digit(const xtnn::tensor<std::uint8_t, 2>& digit) {
    return {digit.shape(1), digit.shape(0),
            std::vector<std::uint8_t>(digit.data(), digit.data() + digit.size())};
}

xtnn::tensor<std::uint8_t, 2> to_mnist_digit(const gray_image& image) {
    if (image.width == 0 || image.height == 0) {
        throw xtnn::io_error("to_mnist_digit: the image is empty");
    }
    // Light on dark, background at 0, ink up to 255.
    const std::uint8_t paper = border_level(image);
    const bool invert = paper > 127;
    std::vector<float> ink(image.pixels.size());
    float darkest = 0.0f;
    for (std::size_t i = 0; i < ink.size(); ++i) {
        const float v = invert ? 255.0f - image.pixels[i] : image.pixels[i];
        const float background = invert ? 255.0f - paper : paper;
        ink[i] = std::max(0.0f, v - background);
        darkest = std::max(darkest, ink[i]);
    }
    if (darkest < 32.0f) {
        throw xtnn::io_error("to_mnist_digit: no digit found; the image is nearly uniform "
                             "(ink contrast " +
                             std::to_string(static_cast<int>(darkest)) +
                             " of 255, expected at least 32)");
    }
    // Crop to the ink, ignoring faint noise (below a tenth of the strongest stroke).
    std::size_t left = image.width, right = 0, top = image.height, bottom = 0;
    std::vector<std::uint8_t> levels(ink.size());
    for (std::size_t y = 0; y < image.height; ++y) {
        for (std::size_t x = 0; x < image.width; ++x) {
            const float v = ink[y * image.width + x] / darkest;
            levels[y * image.width + x] = static_cast<std::uint8_t>(std::lround(255.0f * v));
            if (v >= 0.10f) {
                left = std::min(left, x);
                right = std::max(right, x);
                top = std::min(top, y);
                bottom = std::max(bottom, y);
            }
        }
    }
    const std::size_t crop_w = right - left + 1, crop_h = bottom - top + 1;
    // Fit into 20 × 20, keeping the aspect ratio.
    const double scale = 20.0 / static_cast<double>(std::max(crop_w, crop_h));
    const auto fit_w = static_cast<std::size_t>(
        std::clamp(std::lround(static_cast<double>(crop_w) * scale), 1L, 20L));
    const auto fit_h = static_cast<std::size_t>(
        std::clamp(std::lround(static_cast<double>(crop_h) * scale), 1L, 20L));
    std::vector<std::uint8_t> fitted(fit_w * fit_h);
    stbir_resize_uint8_generic(levels.data() + top * image.width + left, static_cast<int>(crop_w),
                               static_cast<int>(crop_h), static_cast<int>(image.width),
                               fitted.data(), static_cast<int>(fit_w), static_cast<int>(fit_h),
                               static_cast<int>(fit_w), 1, STBIR_ALPHA_CHANNEL_NONE, 0,
                               STBIR_EDGE_ZERO, STBIR_FILTER_DEFAULT, STBIR_COLORSPACE_LINEAR,
                               nullptr);
    // Centre of mass to the centre of the 28 × 28 field.
    double mass = 0, mx = 0, my = 0;
    for (std::size_t y = 0; y < fit_h; ++y) {
        for (std::size_t x = 0; x < fit_w; ++x) {
            const double v = fitted[y * fit_w + x];
            mass += v;
            mx += v * (static_cast<double>(x) + 0.5);
            my += v * (static_cast<double>(y) + 0.5);
        }
    }
    const auto place = [&](double centre, std::size_t extent) {
        const long offset =
            std::lround(14.0 - (mass > 0 ? centre / mass : static_cast<double>(extent) / 2.0));
        return static_cast<std::size_t>(std::clamp(offset, 0L, static_cast<long>(28 - extent)));
    };
    const std::size_t x0 = place(mx, fit_w), y0 = place(my, fit_h);
    xtnn::tensor<std::uint8_t, 2> digit(xtnn::shape<2>{28, 28});
    digit.fill(0);
    for (std::size_t y = 0; y < fit_h; ++y) {
        for (std::size_t x = 0; x < fit_w; ++x) {
            digit(y0 + y, x0 + x) = fitted[y * fit_w + x];
        }
    }
    return digit;
}

} // namespace mnist
