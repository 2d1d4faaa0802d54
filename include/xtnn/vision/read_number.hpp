/// @file
/// Reading the digits of a photo, scan or drawing with a trained MNIST model.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtnn/data/mnist.hpp>
#include <xtnn/model/predict.hpp>
#include <xtnn/vision/digits.hpp>

namespace xtnn::vision {

/// One digit read by a model.
/// @ingroup vision
struct digit_reading {
    int digit = 0;                         ///< The most probable class.
    std::array<float, 10> probabilities{}; ///< The softmax of the model's ten outputs.
    box bounds;                            ///< Where the digit is in the image.
    gray_image input;                      ///< The 28 × 28 digit the model saw.
    /// The probability of `digit`: how sure the model is.
    float confidence() const { return probabilities[static_cast<std::size_t>(digit)]; }
};

/// A row of digits read by a model, left to right.
/// @ingroup vision
struct number_reading {
    std::string number;                ///< The digits, e.g. "2026".
    std::vector<digit_reading> digits; ///< Each digit's reading, left to right.
};

/// Reads the digits of an image with a model trained on MNIST: find_digits(), then one batch
/// through the model (`(n, 1, 28, 28)` images for a model of rank-4 input, `(n, 784)` rows for
/// a dense one), its ten outputs taken as logits (the outputs of a model trained with
/// softmax_cross_entropy) and turned into probabilities.
/// @throws no_digit_error when the image holds no digit or row of digits (see find_digits);
/// shape_error if the model does not take 28 × 28 digits or give ten outputs.
/// @code
/// auto reading = xtnn::vision::read_number(model, xtnn::vision::to_gray(pixels));
/// std::printf("%s\n", reading.number.c_str());          // "2026"
/// @endcode
/// @ingroup vision
template <class Model, class Image>
number_reading read_number(Model& model, const Image& image, const digit_options& options = {}) {
    static_assert(Model::input_rank == 2 || Model::input_rank == 4,
                  "xtnn: read_number needs a model of (batch, 784) or (batch, 1, 28, 28) inputs");
    static_assert(Model::output_rank == 2, "xtnn: read_number needs (batch, 10) outputs");
    const auto found = find_digits(image, options);
    const auto batch = stack(found);
    using T = typename Model::value_type;
    const auto probabilities = [&] {
        if constexpr (Model::input_rank == 4) {
            return predict_probabilities(model, to_images<T>(batch));
        } else {
            return predict_probabilities(model, to_features<T>(batch));
        }
    }();
    if (probabilities.shape(1) != 10) {
        throw shape_error(xtnn::detail::mismatch_message(
            "read_number", "the model must give one output per digit class", "(batch, 10)",
            format_shape(probabilities.shape())));
    }
    number_reading reading;
    for (std::size_t i = 0; i < found.size(); ++i) {
        digit_reading d;
        for (std::size_t c = 0; c < 10; ++c) {
            d.probabilities[c] = static_cast<float>(probabilities(i, c));
        }
        d.digit =
            static_cast<int>(std::max_element(d.probabilities.begin(), d.probabilities.end()) -
                             d.probabilities.begin());
        d.bounds = found[i].bounds;
        d.input = found[i].digit;
        reading.number += static_cast<char>('0' + d.digit);
        reading.digits.push_back(std::move(d));
    }
    return reading;
}

} // namespace xtnn::vision
