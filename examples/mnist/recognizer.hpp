// The MNIST digit recognizer: the tutorial's model, and the train / evaluate / predict steps
// the command line runs (kept apart from main.cpp so the tests can run them too).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

// Only the parts this interface names (main.cpp, which includes it, needs no more); the
// training code's parts are included by recognizer.cpp alone.
#include <xtnn/layers.hpp>
#include <xtnn/metrics/confusion_matrix.hpp>
#include <xtnn/model.hpp>
#include <xtnn/model/history.hpp>

namespace mnist {

/// The two models the program trains.
enum class architecture {
    mlp, ///< The Keras tutorial's dense network.
    cnn  ///< The Keras tutorial's convnet.
};

/// "mlp" or "cnn".
std::string to_string(architecture a);

/// The Keras tutorial's network: 784 → dense(hidden) → relu → dropout → dense(10) logits.
inline auto make_mlp(std::size_t hidden = 128, double dropout_rate = 0.2) {
    return xtnn::sequential{xtnn::dense<float>{784, hidden}, xtnn::relu{},
                            xtnn::dropout{dropout_rate}, xtnn::dense<float>{hidden, 10}};
}
using mlp_type = decltype(make_mlp());

/// The Keras tutorial's convnet (keras.io/examples/vision/mnist_convnet) on (N, 1, 28, 28)
/// images: conv 32 3×3 → relu → max-pool 2 → conv 64 3×3 → relu → max-pool 2 → flatten →
/// dropout → dense(10) logits; 34,826 parameters.
inline auto make_cnn(double dropout_rate = 0.5) {
    return xtnn::sequential{xtnn::conv2d<float>{1, 32, 3},
                            xtnn::relu{},
                            xtnn::max_pool2d{},
                            xtnn::conv2d<float>{32, 64, 3},
                            xtnn::relu{},
                            xtnn::max_pool2d{},
                            xtnn::flatten{},
                            xtnn::dropout{dropout_rate},
                            xtnn::dense<float>{1600, 10}};
}
using cnn_type = decltype(make_cnn());

/// A model of either kind, as read from a weight file.
using any_model = std::variant<mlp_type, cnn_type>;

/// What a weight file holds: the model's kind and the options train() lets one choose.
struct model_description {
    architecture kind = architecture::mlp;
    std::size_t hidden = 0; ///< The MLP's hidden units.
    double dropout = 0;     ///< The dropout layer's rate.
};

/// Reads the architecture a weight file records (xtnn::read_architecture, or for an .onnx file
/// xtnn::read_onnx_architecture), or for a file without one tells the model from its arrays'
/// names and shapes (.npz from PyTorch or NumPy) or takes it for the CNN (.onnx from another
/// exporter; load_model then checks every node).
/// @throws xtnn::io_error naming the file if it is unreadable or holds neither model.
model_description describe_weights(const std::filesystem::path& weights);

/// Options of train(). Epochs, batch size and dropout left unset take the model's recipe:
/// recipe().
struct train_options {
    std::filesystem::path data = "data/mnist";     ///< An MNIST-layout directory.
    std::filesystem::path output = "mnist-output"; ///< Weights, history and pictures go here.
    architecture model = architecture::mlp;
    std::optional<std::size_t> epochs{};     ///< Unset: the recipe's.
    std::optional<std::size_t> batch_size{}; ///< Unset: the recipe's.
    std::size_t hidden = 128;                ///< The MLP's hidden units.
    std::optional<double> dropout{};         ///< Unset: the recipe's.
    std::optional<double> learning_rate{};   ///< Adam's (starting) rate; unset: the recipe's.
    std::optional<bool> cosine_decay{};      ///< Unset: the recipe's.
    /// Hold out this fraction of the training set for validation; 0 validates on the test set
    /// (as the tutorial does: it only draws the curves, nothing is tuned on it).
    double validation_split = 0.0;
    std::uint64_t seed = 42;
    std::size_t limit = 0; ///< Train on the first `limit` samples only (0: all).
    bool quiet = false;    ///< No progress bar, no summary.
    bool pictures = true;  ///< Draw the PNG pictures.
};

/// The defaults of each model: epochs, batch size, dropout and learning rate.
struct training_recipe {
    std::size_t epochs;
    std::size_t batch_size;
    double dropout;
    double learning_rate; ///< Adam's (starting) learning rate.
    bool cosine_decay;    ///< Whether the learning rate decays to 0 over the epochs (a cosine).
};

/// The recipe of `model`: the MLP's is the Keras tutorial's (5 epochs of 32, dropout 0.2, Adam
/// 1e-3); the CNN's is what gave the best test accuracy on the default split in under a minute
/// here (12 epochs of 32, dropout 0.5, Adam 3e-3 decaying to 0 along a cosine: docs/mnist.md).
training_recipe recipe(architecture model);

/// What train() measured and where it wrote its files.
struct train_result {
    xtnn::history history;
    double test_loss = 0;
    double test_accuracy = 0;
    double seconds = 0; ///< fit's wall time.
    std::vector<std::filesystem::path> files;
};

/// Trains the model on the training split, evaluates it on the test split and writes into
/// `options.output`: mnist_mlp.npz or mnist_cnn.npz (weights), history.csv, and the pictures
/// digits.png, mistakes.png, training_curves.png and confusion_matrix.png. Prints progress to
/// `out`.
train_result train(const train_options& options, std::ostream& out);

/// What evaluate() measured on the test split.
struct evaluation_report {
    double loss = 0;
    double accuracy = 0;
    xtnn::confusion_matrix confusion{10}; ///< counts(truth, predicted).
};

/// Loads weights saved by train() (either model: see describe_weights()) and measures them on
/// the test split of `data`. @throws xtnn::io_error for a missing or unrecognized weight file.
evaluation_report evaluate(const std::filesystem::path& data, const std::filesystem::path& weights);

/// The model's answer for one image file.
struct prediction {
    std::filesystem::path file;
    int digit = 0;
    std::array<float, 10> probabilities{};
};

/// Loads weights saved by train() (.npz), or a model exported from them (.onnx), into a new
/// model of the kind the file holds.
/// @throws xtnn::io_error for a missing file or one that holds neither model.
any_model load_model(const std::filesystem::path& weights);

/// Whether the program reads and writes ONNX files (it was built with xtnn's ONNX component).
bool has_onnx();

/// Writes the model of `weights` (.npz or .onnx) as an ONNX file for any ONNX runtime, OpenCV
/// or PyTorch's tooling (xtnn::save_onnx).
/// @throws xtnn::io_error for an unreadable weight file or an unwritable `onnx`; without the
/// ONNX component, io_error saying so.
void export_onnx(const std::filesystem::path& weights, const std::filesystem::path& onnx);

/// Classifies an image of a handwritten digit (PNG, JPEG, … any size, either polarity) with
/// MNIST's preprocessing (see to_mnist_digit()). With `preprocessed` non-empty, also writes the
/// 28 × 28 digit the model saw there, as <file name>.28x28.png.
/// @throws xtnn::io_error for an unreadable image or one without a digit.
prediction predict_file(any_model& model, const std::filesystem::path& file,
                        const std::filesystem::path& preprocessed = {});

} // namespace mnist
