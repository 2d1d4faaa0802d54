// Images of handwritten digits: reading PNG/JPEG files (stb_image) and MNIST's preprocessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include <xtnn/core/tensor.hpp>

namespace mnist {

/// A grayscale image, row-major, one byte per pixel.
struct gray_image {
    std::size_t width = 0;
    std::size_t height = 0;
    std::vector<std::uint8_t> pixels; ///< height × width values.

    std::uint8_t& at(std::size_t x, std::size_t y) { return pixels[y * width + x]; }
    std::uint8_t at(std::size_t x, std::size_t y) const { return pixels[y * width + x]; }
};

/// Reads a PNG, JPEG, BMP, GIF, TGA or PNM file as grayscale; transparent pixels count as white
/// paper. @throws xtnn::io_error naming the file and stb_image's reason.
gray_image load_gray_image(const std::filesystem::path& path);

/// Writes a grayscale image as PNG (or JPEG when the name ends in .jpg/.jpeg, quality 90).
/// @throws xtnn::io_error naming the file.
void save_gray_image(const gray_image& image, const std::filesystem::path& path);

/// A 28 × 28 MNIST digit as an image.
gray_image from_digit(const xtnn::tensor<std::uint8_t, 2>& digit);

/// MNIST's preprocessing, for a photo or drawing of one digit of any size: invert when the
/// background is light (MNIST digits are light on dark), stretch the contrast from the
/// background to the darkest ink, crop to the ink, scale to fit 20 × 20 keeping the aspect
/// ratio, and place it in 28 × 28 so that its centre of mass is the centre.
/// @throws xtnn::io_error if the image holds no ink (uniform).
xtnn::tensor<std::uint8_t, 2> to_mnist_digit(const gray_image& image);

} // namespace mnist
