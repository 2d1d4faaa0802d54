// A realistic test set for people's digits: held-out MNIST test digits written on paper and
// photographed, single digits and numbers of 2-6 digits, under uneven light. Never training
// digits: each photo is made from the test split only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtnn/data/mnist.hpp>

namespace mnist {

/// One photo: its encoded file and what is written on it.
struct photo {
    std::string name;                ///< e.g. "number-0042.jpg".
    std::string label;               ///< The digits written, left to right, e.g. "4071".
    std::vector<std::uint8_t> bytes; ///< The encoded file (PNG or JPEG).
    std::string conditions;          ///< How it was made, e.g. "shadow, thin pen, jpeg 63".
};

/// What make_photos() makes.
struct photo_options {
    std::size_t singles = 400; ///< Photos of one digit: test digits 0 .. singles-1.
    std::size_t numbers = 200; ///< Photos of 2-6 digits, from the test digits after those.
    std::uint64_t seed = 2026; ///< The same seed makes the same files.
};

/// Makes the photo set from the test split (the digits are used in order, each once, so
/// `singles` + about 4 × `numbers` must not exceed the split). Each photo: paper of a random
/// shade (a tenth light ink on a dark board), a pen of random width (a threshold of the
/// enlarged digit: thin to thick) and colour, a brightness gradient, in most a soft shadow
/// along one edge, blur, sensor noise, a third in colour; saved as JPEG (quality 55-92) or PNG.
/// Numbers: digits of one writer's size with jittered sizes, baselines and gaps, a few
/// touching.
/// @throws xtnn::config_error if the split has too few digits.
std::vector<photo> make_photos(const xtnn::mnist_split& test, const photo_options& options = {});

} // namespace mnist
