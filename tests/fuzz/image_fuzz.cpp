// Fuzz target: what the MNIST program does with a person's image file: decode it (PNG with
// libpng, JPEG with libjpeg-turbo, everything else refused) and turn it into a 28 x 28 digit.
// Every failure must be an xtnn::io_error.
#include <cstddef>
#include <cstdint>
#include <span>

#include <xtnn/core/errors.hpp>

#include "digit_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Smaller limits than the program's 40 megapixels keep each input fast; the checks are the
    // same code.
    const mnist::image_limits limits{.max_file_bytes = std::size_t{1} << 20,
                                     .max_pixels = 1'000'000};
    try {
        const auto image =
            mnist::decode_gray_image(std::span<const std::uint8_t>(data, size), "fuzz", limits);
        (void)mnist::to_mnist_digit(image);
    } catch (const xtnn::io_error&) {
    }
    return 0;
}
