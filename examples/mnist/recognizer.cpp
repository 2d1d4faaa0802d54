#include "recognizer.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <xtnn/data.hpp>
#include <xtnn/io.hpp>
#include <xtnn/losses.hpp>
#include <xtnn/metrics.hpp>
#include <xtnn/optimizers.hpp>
#include <xtnn/training.hpp>

#include "digit_image.hpp"
#include "pictures.hpp"

namespace mnist {

namespace {

// The first `n` samples of a split.
xtnn::mnist_split head(const xtnn::mnist_split& split, std::size_t n) {
    const std::size_t pixels = split.images.shape(1) * split.images.shape(2);
    xtnn::mnist_split out{xtnn::tensor<std::uint8_t, 3>(
                              xtnn::shape<3>{n, split.images.shape(1), split.images.shape(2)}),
                          xtnn::tensor<std::uint8_t, 1>(xtnn::shape<1>{n})};
    std::copy_n(split.images.data(), n * pixels, out.images.data());
    std::copy_n(split.labels.data(), n, out.labels.data());
    return out;
}

xtnn::tensor<std::uint8_t, 2> image_at(const xtnn::tensor<std::uint8_t, 3>& images, std::size_t i) {
    xtnn::tensor<std::uint8_t, 2> image(xtnn::shape<2>{images.shape(1), images.shape(2)});
    std::copy_n(images.data() + i * image.size(), image.size(), image.data());
    return image;
}

xtnn::mnist_dataset load_checked(const std::filesystem::path& directory) {
    auto data = xtnn::load_mnist(directory);
    if (data.train.images.shape(1) != 28 || data.train.images.shape(2) != 28) {
        throw xtnn::shape_error(xtnn::detail::mismatch_message(
            "mnist: '" + directory.string() + "'", "this model reads 28 × 28 images", "(28, 28)",
            xtnn::format_shape(
                xtnn::shape<2>{data.train.images.shape(1), data.train.images.shape(2)})));
    }
    return data;
}

} // namespace

train_result train(const train_options& options, std::ostream& out) {
    auto data = load_checked(options.data);
    if (options.limit > 0 && options.limit < data.train.labels.size()) {
        data.train = head(data.train, options.limit);
    }
    const auto x_train = xtnn::to_features(data.train.images);
    const auto x_test = xtnn::to_features(data.test.images);
    const auto& y_train = data.train.labels;
    const auto& y_test = data.test.labels;
    if (!options.quiet) {
        out << "MNIST from " << options.data.string() << ": " << y_train.size() << " training and "
            << y_test.size() << " test digits\n";
    }

    auto model = make_model(options.hidden, options.dropout);
    model.initialize(options.seed);
    if (!options.quiet) {
        out << model.summary({options.batch_size, 784}) << "\n";
    }
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::adam({.learning_rate = options.learning_rate}), xtnn::accuracy{}};
    const xtnn::fit_options fit{.epochs = options.epochs,
                                .batch_size = options.batch_size,
                                .validation_split = options.validation_split,
                                .seed = options.seed,
                                .verbose = options.quiet ? xtnn::verbosity::silent
                                                         : xtnn::verbosity::automatic};

    train_result result;
    const auto start = std::chrono::steady_clock::now();
    result.history =
        options.validation_split > 0
            ? trainer.fit(x_train, y_train, fit)
            : trainer.fit(x_train, y_train, xtnn::validation_data{x_test, y_test}, fit);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto report = trainer.evaluate(x_test, y_test);
    result.test_loss = report.loss();
    result.test_accuracy = report["accuracy"];

    std::filesystem::create_directories(options.output);
    const auto weights = options.output / "mnist_mlp.npz";
    xtnn::save_weights(model, weights);
    const auto history_csv = options.output / "history.csv";
    result.history.write_csv(history_csv);
    result.files = {weights, history_csv};

    if (options.pictures) {
        // One pass over the test digits serves the grids and the confusion matrix.
        const auto logits = xtnn::predict(model, x_test);
        std::vector<labelled_digit> first, mistakes;
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < y_test.size(); ++i) {
            const float* row = logits.data() + i * 10;
            const auto guess = static_cast<int>(std::max_element(row, row + 10) - row);
            const labelled_digit d{image_at(data.test.images, i), guess,
                                   static_cast<int>(y_test(i))};
            if (first.size() < 60) {
                first.push_back(d);
            }
            if (d.predicted != d.truth && wrong++ < 60) {
                mistakes.push_back(d);
            }
        }
        const auto digits_png = options.output / "digits.png";
        draw_digit_grid(first, 10,
                        "The first 60 test digits: the model's answer (and the truth "
                        "where it is wrong)",
                        digits_png);
        const auto mistakes_png = options.output / "mistakes.png";
        draw_digit_grid(mistakes, 10,
                        "Mistakes: " +
                            (wrong > mistakes.size()
                                 ? "the first " + std::to_string(mistakes.size()) + " of "
                                 : std::string()) +
                            std::to_string(wrong) + " test digits the model got wrong (of " +
                            std::to_string(y_test.size()) + ")",
                        mistakes_png);
        const auto curves_png = options.output / "training_curves.png";
        draw_training_curves(result.history, curves_png);
        xtnn::confusion_matrix confusion(10);
        confusion.update(logits, y_test);
        const auto confusion_png = options.output / "confusion_matrix.png";
        draw_confusion_matrix(confusion.matrix(), confusion_png);
        result.files.insert(result.files.end(),
                            {digits_png, mistakes_png, curves_png, confusion_png});
    }
    return result;
}

model_type load_model(const std::filesystem::path& weights, std::size_t hidden) {
    auto model = make_model(hidden);
    xtnn::load_weights(model, weights);
    return model;
}

evaluation_report evaluate(const std::filesystem::path& data_directory,
                           const std::filesystem::path& weights, std::size_t hidden) {
    auto model = load_model(weights, hidden);
    const auto data = load_checked(data_directory);
    const auto x_test = xtnn::to_features(data.test.images);
    // One forward pass: the loss, the confusion matrix and, from it, the accuracy.
    const auto logits = xtnn::predict(model, x_test);
    xtnn::confusion_matrix confusion(10);
    confusion.update(logits, data.test.labels);
    const double loss = xtnn::softmax_cross_entropy{}.value(logits, data.test.labels);
    return {loss, confusion.result(), confusion};
}

prediction predict_file(model_type& model, const std::filesystem::path& file,
                        const std::filesystem::path& preprocessed) {
    const auto digit = to_mnist_digit(load_gray_image(file));
    if (!preprocessed.empty()) {
        std::filesystem::create_directories(preprocessed);
        save_gray_image(from_digit(digit),
                        preprocessed / (file.filename().string() + ".28x28.png"));
    }
    xtnn::tensor<std::uint8_t, 3> batch(xtnn::shape<3>{1, 28, 28});
    std::copy_n(digit.data(), digit.size(), batch.data());
    const auto probabilities = xtnn::predict_probabilities(model, xtnn::to_features(batch));
    prediction p{file, 0, {}};
    std::copy_n(probabilities.data(), 10, p.probabilities.begin());
    p.digit = static_cast<int>(std::max_element(p.probabilities.begin(), p.probabilities.end()) -
                               p.probabilities.begin());
    return p;
}

} // namespace mnist
