/// @file
/// Reading the digits of a photo, scan or drawing with a trained MNIST model.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <xtnn/core/math.hpp>
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
///
/// Where find_digits offers other readings of the same ink, the model's confidence chooses:
/// two halves replace a digit the model is unsure of (below 60 %) when it is sure of each half
/// (above 90 %: digits that touch), and two neighbours are read as one digit when the model is
/// unsure of one of them and sure of the pair as one (a digit broken in two).
/// @throws no_digit_error when the image holds no digit or row of digits (see find_digits);
/// shape_error if the model does not give ten outputs.
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
    // Every reading of every digit in one batch: the digit, its halves, it joined with the next.
    std::vector<const found_digit*> candidates;
    for (const auto& d : found) {
        candidates.push_back(&d);
        for (const auto& h : d.halves) {
            candidates.push_back(&h);
        }
        for (const auto& j : d.joined) {
            candidates.push_back(&j);
        }
    }
    const auto batch = detail::stack(candidates);
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
    const auto reading_of = [&](const found_digit& f) {
        const auto row = static_cast<std::size_t>(
            std::find(candidates.begin(), candidates.end(), &f) - candidates.begin());
        digit_reading d;
        for (std::size_t c = 0; c < 10; ++c) {
            d.probabilities[c] = static_cast<float>(probabilities(row, c));
        }
        d.digit = static_cast<int>(argmax(std::span<const float>(d.probabilities)));
        d.bounds = f.bounds;
        d.input = f.digit;
        return d;
    };
    // A model trained on MNIST is confident about much that is not a digit: another reading
    // wins only where the first is unsure and the other sure.
    constexpr float sure = 0.9f, unsure = 0.6f;
    number_reading reading;
    for (std::size_t i = 0; i < found.size(); ++i) {
        const auto whole = reading_of(found[i]);
        if (!found[i].joined.empty()) {
            const auto next = reading_of(found[i + 1]);
            auto both = reading_of(found[i].joined.front());
            if (both.confidence() > sure &&
                std::min(whole.confidence(), next.confidence()) < unsure) {
                reading.digits.push_back(std::move(both));
                ++i;
                continue;
            }
        }
        if (found[i].halves.size() == 2) {
            auto left = reading_of(found[i].halves[0]);
            auto right = reading_of(found[i].halves[1]);
            if (whole.confidence() < unsure &&
                std::min(left.confidence(), right.confidence()) > sure) {
                reading.digits.push_back(std::move(left));
                reading.digits.push_back(std::move(right));
                continue;
            }
        }
        reading.digits.push_back(whole);
    }
    for (const auto& d : reading.digits) {
        reading.number += static_cast<char>('0' + d.digit);
    }
    return reading;
}

} // namespace xtnn::vision
