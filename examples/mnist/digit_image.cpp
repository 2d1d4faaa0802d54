#include "digit_image.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <png.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#include <string>
#include <system_error>
#include <turbojpeg.h>

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

namespace {

void require_pixels(std::size_t width, std::size_t height, const std::string& name,
                    const image_limits& limits) {
    if (width == 0 || height == 0) {
        throw xtnn::io_error("load_image: '" + name + "': the image is empty (" +
                             std::to_string(width) + " x " + std::to_string(height) + ")");
    }
    if (width > limits.max_pixels / height) {
        throw xtnn::io_error("load_image: '" + name + "': the image declares " +
                             std::to_string(width) + " x " + std::to_string(height) +
                             " pixels; expected at most " + std::to_string(limits.max_pixels) +
                             " pixels in all");
    }
}

// Gray + alpha over white paper: a transparent background must become paper, not black.
std::uint8_t over_paper(int gray, int alpha) {
    return static_cast<std::uint8_t>((gray * alpha + 255 * (255 - alpha) + 127) / 255);
}

gray_image decode_png(std::span<const std::uint8_t> bytes, const std::string& name,
                      const image_limits& limits) {
    // libpng's simplified API reports every failure in image.message (no longjmp through our
    // frames) and reads the header alone first, so the size is checked before decoding.
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    struct release {
        png_image* p;
        ~release() { png_image_free(p); }
    } guard{&png};
    const auto failure = [&](const char* stage) {
        return xtnn::io_error("load_image: '" + name + "': not a readable PNG file (libpng, " +
                              stage + ": " + png.message + ")");
    };
    if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
        throw failure("header");
    }
    require_pixels(png.width, png.height, name, limits);
    png.format = PNG_FORMAT_GA;
    std::vector<std::uint8_t> gray_alpha(std::size_t{2} * png.width * png.height);
    if (png_image_finish_read(&png, nullptr, gray_alpha.data(), 0, nullptr) == 0) {
        throw failure("data");
    }
    gray_image image{png.width, png.height, {}};
    image.pixels.resize(image.width * image.height);
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
        image.pixels[i] = over_paper(gray_alpha[2 * i], gray_alpha[2 * i + 1]);
    }
    return image;
}

gray_image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& name,
                       const image_limits& limits) {
    // TurboJPEG (libjpeg-turbo's own API) returns errors instead of calling exit or longjmp.
    std::unique_ptr<void, decltype(&tjDestroy)> decoder(tjInitDecompress(), &tjDestroy);
    if (!decoder) {
        throw xtnn::io_error("load_image: '" + name + "': cannot start the JPEG decoder (" +
                             tjGetErrorStr2(nullptr) + ")");
    }
    const auto failure = [&](const char* stage) {
        return xtnn::io_error("load_image: '" + name + "': not a readable JPEG file " +
                              "(libjpeg-turbo, " + stage + ": " + tjGetErrorStr2(decoder.get()) +
                              ")");
    };
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<unsigned long>::max())) {
        throw xtnn::io_error("load_image: '" + name + "': the file is too large");
    }
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(decoder.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                            &width, &height, &subsampling, &colorspace) != 0) {
        throw failure("header");
    }
    require_pixels(static_cast<std::size_t>(width), static_cast<std::size_t>(height), name, limits);
    gray_image image{static_cast<std::size_t>(width), static_cast<std::size_t>(height), {}};
    image.pixels.resize(image.width * image.height);
    // Damaged data is an error, not a half-grey picture; a progressive file may not make the
    // decoder loop over thousands of scans.
    if (tjDecompress2(decoder.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                      image.pixels.data(), width, 0, height, TJPF_GRAY,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
        throw failure("data");
    }
    return image;
}

} // namespace

gray_image decode_gray_image(std::span<const std::uint8_t> bytes, const std::string& name,
                             const image_limits& limits) {
    if (bytes.size() > limits.max_file_bytes) {
        throw xtnn::io_error("load_image: '" + name + "': the file has " +
                             std::to_string(bytes.size()) + " bytes; expected at most " +
                             std::to_string(limits.max_file_bytes));
    }
    static constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() >= 8 && std::equal(bytes.begin(), bytes.begin() + 8, png_signature)) {
        return decode_png(bytes, name, limits);
    }
    if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
        return decode_jpeg(bytes, name, limits);
    }
    throw xtnn::io_error("load_image: '" + name +
                         "': not a PNG or JPEG file (other formats are not read: save the "
                         "image as PNG or JPEG)");
}

gray_image load_gray_image(const std::filesystem::path& path, const image_limits& limits) {
    const std::string name = path.string();
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (error && error != std::errc::no_such_file_or_directory) {
        throw xtnn::io_error(where("load_image", path) + ": cannot read it (" + error.message() +
                             ")");
    }
    if (!std::filesystem::exists(status)) {
        throw xtnn::io_error(where("load_image", path) + ": no such file");
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw xtnn::io_error(where("load_image", path) + ": not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw xtnn::io_error(where("load_image", path) + ": cannot open it (" +
                             std::strerror(errno) + ")");
    }
    // Read at most one byte more than the limit: a larger file is refused without reading it.
    std::vector<std::uint8_t> bytes;
    const std::size_t chunk = 1 << 16;
    while (in && bytes.size() <= limits.max_file_bytes) {
        const std::size_t old_size = bytes.size();
        bytes.resize(old_size + chunk);
        in.read(reinterpret_cast<char*>(bytes.data() + old_size),
                static_cast<std::streamsize>(chunk));
        bytes.resize(old_size + static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) {
        throw xtnn::io_error(where("load_image", path) + ": cannot read it");
    }
    return decode_gray_image(bytes, name, limits);
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
