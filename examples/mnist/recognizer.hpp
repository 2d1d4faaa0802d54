// The MNIST digit recognizer: the tutorial's model, and the train / evaluate / predict steps
// the command line runs (kept apart from main.cpp so the tests can run them too).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

// Only the parts this interface names (main.cpp, which includes it, needs no more); the
// training code's parts are included by recognizer.cpp alone.
#include <xtnn/layers.hpp>
#include <xtnn/metrics/confusion_matrix.hpp>
#include <xtnn/model.hpp>
#include <xtnn/model/history.hpp>

namespace mnist {

/// The Keras tutorial's network: 784 → dense(hidden) → relu → dropout → dense(10) logits.
inline auto make_model(std::size_t hidden = 128, double dropout_rate = 0.2) {
    return xtnn::sequential{xtnn::dense<float>{784, hidden}, xtnn::relu{},
                            xtnn::dropout{dropout_rate}, xtnn::dense<float>{hidden, 10}};
}
using model_type = decltype(make_model());

/// Options of train(); the defaults are the tutorial's.
struct train_options {
    std::filesystem::path data = "data/mnist";     ///< An MNIST-layout directory.
    std::filesystem::path output = "mnist-output"; ///< Weights, history and pictures go here.
    std::size_t epochs = 5;
    std::size_t batch_size = 32;
    std::size_t hidden = 128;
    double dropout = 0.2;
    double learning_rate = 1e-3;
    /// Hold out this fraction of the training set for validation; 0 validates on the test set
    /// (as the tutorial does: it only draws the curves, nothing is tuned on it).
    double validation_split = 0.0;
    std::uint64_t seed = 42;
    std::size_t limit = 0; ///< Train on the first `limit` samples only (0: all).
    bool quiet = false;    ///< No progress bar, no summary.
    bool pictures = true;  ///< Draw the PNG pictures.
};

/// What train() measured and where it wrote its files.
struct train_result {
    xtnn::history history;
    double test_loss = 0;
    double test_accuracy = 0;
    double seconds = 0; ///< fit's wall time.
    std::vector<std::filesystem::path> files;
};

/// Trains the model on the training split, evaluates it on the test split and writes into
/// `options.output`: mnist_mlp.npz (weights), history.csv, and the pictures digits.png,
/// mistakes.png, training_curves.png and confusion_matrix.png. Prints progress to `out`.
train_result train(const train_options& options, std::ostream& out);

/// What evaluate() measured on the test split.
struct evaluation_report {
    double loss = 0;
    double accuracy = 0;
    xtnn::confusion_matrix confusion{10}; ///< counts(truth, predicted).
};

/// Loads weights saved by train() into a model with `hidden` units and measures it on the test
/// split of `data`. @throws xtnn::io_error for a missing or mismatched weight file.
evaluation_report evaluate(const std::filesystem::path& data, const std::filesystem::path& weights,
                           std::size_t hidden);

/// The model's answer for one image file.
struct prediction {
    std::filesystem::path file;
    int digit = 0;
    std::array<float, 10> probabilities{};
};

/// Loads weights saved by train() into a new model with `hidden` units.
/// @throws xtnn::io_error for a missing file or one saved from another architecture.
model_type load_model(const std::filesystem::path& weights, std::size_t hidden);

/// Classifies an image of a handwritten digit (PNG, JPEG, … any size, either polarity) with
/// MNIST's preprocessing (see to_mnist_digit()). With `preprocessed` non-empty, also writes the
/// 28 × 28 digit the model saw there, as <file name>.28x28.png.
/// @throws xtnn::io_error for an unreadable image or one without a digit.
prediction predict_file(model_type& model, const std::filesystem::path& file,
                        const std::filesystem::path& preprocessed = {});

} // namespace mnist
