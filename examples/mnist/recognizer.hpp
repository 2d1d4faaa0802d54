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
#include <xtnn/model/process_group.hpp>
#include <xtnn/vision/read_number.hpp>

#include "photos.hpp"

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
/// images, after the layers `front` (augmentation, or none): conv 32 3×3 → relu → max-pool 2
/// → conv 64 3×3 → relu → max-pool 2 → flatten → dropout → dense(10) logits; 34,826
/// parameters.
template <class... Front>
auto make_convnet(double dropout_rate, Front... front) {
    return xtnn::sequential{front...,
                            xtnn::conv2d<float>{1, 32, 3},
                            xtnn::relu{},
                            xtnn::max_pool2d{},
                            xtnn::conv2d<float>{32, 64, 3},
                            xtnn::relu{},
                            xtnn::max_pool2d{},
                            xtnn::flatten{},
                            xtnn::dropout{dropout_rate},
                            xtnn::dense<float>{1600, 10}};
}

/// The tutorial's convnet as it is: its layers are nn.Sequential's in PyTorch.
inline auto make_cnn(double dropout_rate = 0.5) {
    return make_convnet(dropout_rate);
}
using cnn_type = decltype(make_cnn());

/// How the model for people's digits varies the training digits: shifts of up to 10 % of a
/// side, turns of up to ±10.8° (0.03 of a turn) and zoom of ±10 %, as handwriting varies.
inline constexpr xtnn::random_affine_options people_augmentation{
    .translation = 0.1, .rotation = 0.03, .zoom = 0.1};

/// The recommended model for people's digits: the convnet behind random_affine augmentation
/// (the identity at inference and in exported files).
inline auto make_augmented_cnn(double dropout_rate = 0.5,
                               xtnn::random_affine_options augmentation = people_augmentation) {
    return make_convnet(dropout_rate, xtnn::random_affine<float>(augmentation));
}
using augmented_cnn_type = decltype(make_augmented_cnn());

/// A model of any kind the program trains, as read from a weight file.
using any_model = std::variant<mlp_type, cnn_type, augmented_cnn_type>;

/// What a weight file holds: the model's kind and the options train() lets one choose.
struct model_description {
    architecture kind = architecture::mlp;
    std::size_t hidden = 0; ///< The MLP's hidden units.
    double dropout = 0;     ///< The dropout layer's rate.
    /// The CNN's augmentation, when it trained with it (random_affine before the convnet).
    std::optional<xtnn::random_affine_options> augmentation{};
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
    /// Train the CNN behind people_augmentation (make_augmented_cnn); unset: the recipe's.
    std::optional<bool> augment{};
    /// Hold out this fraction of the training set for validation; 0 validates on the test set
    /// (as the tutorial does: it only draws the curves, nothing is tuned on it).
    double validation_split = 0.0;
    std::uint64_t seed = 42;
    std::size_t limit = 0; ///< Train on the first `limit` samples only (0: all).
    bool quiet = false;    ///< No progress bar, no summary.
    bool pictures = true;  ///< Draw the PNG pictures.
    /// Back up the training to `output`/mnist_<model>.backup.npz at the end of every epoch and
    /// every this many batches (0: at the ends of epochs only), and resume from that file when
    /// it is there: a run killed at any moment goes on where it was when started again, to the
    /// weights an uninterrupted run gives.
    std::size_t backup_every = 200;
    bool fresh = false; ///< Train afresh even if a backup is there (and replace it).
    /// Train data-parallel on these processes (an xtnn::mpi::communicator when started by
    /// mpirun); null: alone. Rank 0 prints, evaluates and writes; the others only train.
    xtnn::process_group* distributed = nullptr;
};

/// The defaults of each model: epochs, batch size, dropout and learning rate.
struct training_recipe {
    std::size_t epochs;
    std::size_t batch_size;
    double dropout;
    double learning_rate; ///< Adam's (starting) learning rate.
    bool cosine_decay;    ///< Whether the learning rate decays to 0 over the epochs (a cosine).
    bool augment;         ///< Whether the CNN trains behind people_augmentation.
};

/// The recipe of `model`: the MLP's is the Keras tutorial's (5 epochs of 32, dropout 0.2, Adam
/// 1e-3); the CNN's is what gave the best test accuracy on the default split in under a minute
/// here (12 epochs of 32, dropout 0.5, Adam 3e-3 decaying to 0 along a cosine: docs/mnist.md),
/// and with augmentation (the default: `augment` unset or true) the same over 20 epochs, which
/// people's digits need (docs/mnist.md, "Your own digits").
training_recipe recipe(architecture model, std::optional<bool> augment = {});

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
/// `out`. With `options.distributed`, ranks other than 0 print and write nothing and return
/// the history only.
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

/// The model's answer for one image file: the digits it holds, left to right.
struct prediction {
    std::filesystem::path file;
    xtnn::vision::number_reading reading; ///< The number, and each digit's probabilities.
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

/// Reads the digits of an image with `model` (xtnn::vision::read_number: background and
/// shadows removed, specks dropped, a row of digits split, each digit made like MNIST's).
/// @throws xtnn::vision::no_digit_error when the image holds no digit or row of digits.
xtnn::vision::number_reading read_image(any_model& model, const xtnn::vision::gray_image& image,
                                        const xtnn::vision::digit_options& options = {});

/// Reads the digits of an image file (PNG or JPEG, any size, either polarity, colour or
/// gray: see read_image()). With `preprocessed` non-empty, also writes each 28 × 28 digit the
/// model saw there, as <file name>.<position>.28x28.png.
/// @throws xtnn::io_error for an unreadable image; xtnn::vision::no_digit_error for one
/// without digits.
prediction predict_file(any_model& model, const std::filesystem::path& file,
                        const std::filesystem::path& preprocessed = {},
                        const xtnn::vision::digit_options& options = {});

/// What read_photos() measured on the photo set (photos.hpp).
struct photo_report {
    std::size_t singles = 0, singles_right = 0; ///< Photos of one digit, and those read right.
    std::size_t numbers = 0, numbers_right = 0; ///< Photos of 2-6 digits, and those read whole.
    std::size_t number_digits = 0, number_digits_right = 0; ///< Digits of the numbers, by place.
    std::size_t refused = 0;           ///< Photos where no digit was found (counted wrong).
    std::vector<std::string> mistakes; ///< "name: read X, written Y (conditions)".
};

/// Makes the photo set of held-out test digits (make_photos()) and reads every photo as
/// predict does: through the decoder and read_image(). With `output` non-empty, also writes
/// the photos there with labels.csv (name, label, conditions).
/// @throws xtnn::io_error for unreadable data or an unwritable output.
photo_report read_photos(any_model& model, const std::filesystem::path& data,
                         const photo_options& options, const std::filesystem::path& output = {});

} // namespace mnist
