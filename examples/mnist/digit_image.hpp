// Images of handwritten digits: reading PNG (libpng) and JPEG (libjpeg-turbo) files from people,
// with size limits checked before decoding, and MNIST's preprocessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
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

/// What an image file may hold before it is decoded: a file from a person is hostile until its
/// declared size has been checked.
struct image_limits {
    std::size_t max_file_bytes = std::size_t{64} << 20; ///< The file's size (64 MiB).
    std::size_t max_pixels = 40'000'000; ///< Declared width × height (a 40-megapixel photo).
};

/// Decodes a PNG (libpng) or JPEG (libjpeg-turbo) image held in memory as 8-bit grayscale:
/// colour is converted to gray, transparent pixels count as white paper. Other formats are
/// refused. The declared width × height is checked against `limits` before any pixel is
/// decoded, and a damaged file (bad CRC, truncated data, a warning from the JPEG decoder) is
/// an error rather than a partly decoded image.
/// @param name how messages name the image (its file name).
/// @throws xtnn::io_error naming the image and the decoder's reason.
gray_image decode_gray_image(std::span<const std::uint8_t> bytes, const std::string& name,
                             const image_limits& limits = {});

/// Reads a PNG or JPEG file as grayscale (see decode_gray_image()).
/// @throws xtnn::io_error naming the file and the reason (missing, unreadable, too large,
/// not PNG or JPEG, damaged).
gray_image load_gray_image(const std::filesystem::path& path, const image_limits& limits = {});

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
