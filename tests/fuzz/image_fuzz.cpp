// Fuzz target: what the MNIST program does with a person's image file: decode it (PNG with
// libpng, JPEG with libjpeg-turbo, everything else refused) and find its digits
// (xtnn::vision::find_digits). Every failure must be an xtnn::io_error or, for an image
// without digits, xtnn::vision::no_digit_error.
#include <cstddef>
#include <cstdint>
#include <span>

#include <xtnn/core/errors.hpp>
#include <xtnn/vision/digits.hpp>

#include "digit_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Smaller limits than the program's 40 megapixels keep each input fast; the checks are the
    // same code.
    const mnist::image_limits limits{.max_file_bytes = std::size_t{1} << 20,
                                     .max_pixels = 1'000'000};
    try {
        const auto image =
            mnist::decode_gray_image(std::span<const std::uint8_t>(data, size), "fuzz", limits);
        (void)xtnn::vision::find_digits(image);
    } catch (const xtnn::io_error&) {
    } catch (const xtnn::vision::no_digit_error&) {
    }
    return 0;
}
