#include "digit_image.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <png.h>
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
    xtnn::tensor<std::uint8_t, 3> pixels(xtnn::shape<3>{png.height, png.width, 2});
    if (png_image_finish_read(&png, nullptr, pixels.data(), 0, nullptr) == 0) {
        throw failure("data");
    }
    // Gray + alpha over white paper: a transparent background becomes paper, not black.
    return xtnn::vision::to_gray(pixels);
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
    gray_image image(
        xtnn::shape<2>{static_cast<std::size_t>(height), static_cast<std::size_t>(width)});
    // Damaged data is an error, not a half-grey picture; a progressive file may not make the
    // decoder loop over thousands of scans.
    if (tjDecompress2(decoder.get(), bytes.data(), static_cast<unsigned long>(bytes.size()),
                      image.data(), width, 0, height, TJPF_GRAY,
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
    const int w = static_cast<int>(image.shape(1)), h = static_cast<int>(image.shape(0));
    const int ok = extension == ".jpg" || extension == ".jpeg"
                       ? stbi_write_jpg(path.c_str(), w, h, 1, image.data(), 90)
                       : stbi_write_png(path.c_str(), w, h, 1, image.data(), w);
    if (ok == 0) {
        throw xtnn::io_error(where("save_image", path) + ": cannot write the file");
    }
}

} // namespace mnist
