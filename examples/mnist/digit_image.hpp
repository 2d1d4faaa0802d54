// Images of handwritten digits: reading PNG (libpng) and JPEG (libjpeg-turbo) files from people,
// with size limits checked before decoding, and writing them. What is done with the pixels
// (finding the digits) is the library's: xtnn/vision.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <xtnn/vision/image.hpp>

namespace mnist {

/// A grayscale image, `(height, width)` bytes.
using gray_image = xtnn::vision::gray_image;

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

} // namespace mnist
