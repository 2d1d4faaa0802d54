#include "recognizer.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <span>

#include <xtnn/data.hpp>
#include <xtnn/io.hpp>
#include <xtnn/losses.hpp>
#include <xtnn/metrics.hpp>
#include <xtnn/optimizers.hpp>
#include <xtnn/training.hpp>

#ifdef XTNN_MNIST_ONNX
#include <xtnn/onnx.hpp>
#endif

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

// The model's input: rows of 784 features for the MLP, (N, 1, 28, 28) images for the CNN.
template <class Model>
auto inputs_for(const xtnn::tensor<std::uint8_t, 3>& images) {
    if constexpr (Model::input_rank == 4) {
        return xtnn::to_images(images);
    } else {
        return xtnn::to_features(images);
    }
}

// Fits `model`, evaluates it, saves its weights and draws the pictures.
template <class Model>
train_result fit_and_report(Model& model, const xtnn::mnist_dataset& data,
                            const train_options& options, const training_recipe& r,
                            std::ostream& out) {
    const auto x_train = inputs_for<Model>(data.train.images);
    const auto x_test = inputs_for<Model>(data.test.images);
    const auto& y_train = data.train.labels;
    const auto& y_test = data.test.labels;
    model.initialize(options.seed);
    const bool primary = options.distributed == nullptr || options.distributed->rank() == 0;
    if (!options.quiet && primary) {
        auto batch_shape = x_train.shape();
        batch_shape[0] = r.batch_size;
        out << model.summary(batch_shape) << "\n";
    }
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::adam({.learning_rate = r.learning_rate}), xtnn::accuracy{}};
    std::filesystem::create_directories(options.output);
    const auto backup = options.output / ("mnist_" + to_string(options.model) + ".backup.npz");
    if (primary && !options.quiet && !options.fresh && std::filesystem::exists(backup)) {
        out << "resuming from " << backup.string() << " (--fresh trains afresh)\n";
    }
    const xtnn::fit_options fit{
        .epochs = r.epochs,
        .batch_size = r.batch_size,
        .validation_split = options.validation_split,
        .seed = options.seed,
        .verbose = options.quiet ? xtnn::verbosity::silent : xtnn::verbosity::automatic,
        .distributed = options.distributed,
        .backup = {
            .path = backup, .every_batches = options.backup_every, .resume = !options.fresh}};

    train_result result;
    const auto start = std::chrono::steady_clock::now();
    const auto fit_with = [&](auto&&... callbacks) {
        return options.validation_split > 0
                   ? trainer.fit(x_train, y_train, fit, callbacks...)
                   : trainer.fit(x_train, y_train, xtnn::validation_data{x_test, y_test}, fit,
                                 callbacks...);
    };
    result.history = r.cosine_decay ? fit_with(xtnn::cosine_decay(r.epochs)) : fit_with();
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!primary) {
        return result; // rank 0 evaluates and writes: every process holds the same model
    }
    const auto report = trainer.evaluate(x_test, y_test);
    result.test_loss = report.loss();
    result.test_accuracy = report["accuracy"];

    const auto weights = options.output / ("mnist_" + to_string(options.model) + ".npz");
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
            const auto guess = static_cast<int>(xtnn::argmax(std::span<const float>(row, 10)));
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

// The shape of array `name` in `arrays`, if it is there.
const std::vector<std::size_t>* shape_of(const std::vector<xtnn::npz_array>& arrays,
                                         std::string_view name) {
    for (const auto& a : arrays) {
        if (a.name == name) {
            return &a.header.shape;
        }
    }
    return nullptr;
}

} // namespace

std::string to_string(architecture a) {
    return a == architecture::cnn ? "cnn" : "mlp";
}

training_recipe recipe(architecture model, std::optional<bool> augment) {
    if (model == architecture::cnn) {
        const bool augmented = augment.value_or(true);
        return {.epochs = augmented ? std::size_t{20} : std::size_t{12},
                .batch_size = 32,
                .dropout = 0.5,
                .learning_rate = 3e-3,
                .cosine_decay = true,
                .augment = augmented};
    }
    return {.epochs = 5,
            .batch_size = 32,
            .dropout = 0.2,
            .learning_rate = 1e-3,
            .cosine_decay = false,
            .augment = false};
}

train_result train(const train_options& options, std::ostream& out) {
    auto data = load_checked(options.data);
    if (options.limit > 0 && options.limit < data.train.labels.size()) {
        data.train = head(data.train, options.limit);
    }
    training_recipe r = recipe(options.model, options.augment);
    r.epochs = options.epochs.value_or(r.epochs);
    r.batch_size = options.batch_size.value_or(r.batch_size);
    r.dropout = options.dropout.value_or(r.dropout);
    r.learning_rate = options.learning_rate.value_or(r.learning_rate);
    r.cosine_decay = options.cosine_decay.value_or(r.cosine_decay);
    if (options.augment.value_or(false) && options.model != architecture::cnn) {
        throw xtnn::config_error("train: augmentation turns and shifts images; it needs the CNN "
                                 "(--model cnn), got the MLP");
    }
    if (!options.quiet && (options.distributed == nullptr || options.distributed->rank() == 0)) {
        if (options.distributed != nullptr) {
            out << "data-parallel on " << options.distributed->size()
                << " processes: each step's batch is split between them\n";
        }
        out << "MNIST from " << options.data.string() << ": " << data.train.labels.size()
            << " training and " << data.test.labels.size() << " test digits\nmodel "
            << to_string(options.model) << ", epochs " << r.epochs << ", batch size "
            << r.batch_size << ", dropout " << r.dropout << ", learning rate " << r.learning_rate
            << (r.cosine_decay ? " with cosine decay" : "")
            << (r.augment ? ", augmented (random shifts, turns, zoom)" : "") << "\n";
    }
    if (options.model == architecture::cnn && r.augment) {
        auto model = make_augmented_cnn(r.dropout);
        return fit_and_report(model, data, options, r, out);
    }
    if (options.model == architecture::cnn) {
        auto model = make_cnn(r.dropout);
        return fit_and_report(model, data, options, r, out);
    }
    auto model = make_mlp(options.hidden, r.dropout);
    return fit_and_report(model, data, options, r, out);
}

bool has_onnx() {
#ifdef XTNN_MNIST_ONNX
    return true;
#else
    return false;
#endif
}

namespace {

bool is_onnx(const std::filesystem::path& file) {
    return file.extension() == ".onnx";
}

std::optional<xtnn::model_architecture> recorded_architecture(const std::filesystem::path& file) {
    if (!is_onnx(file)) {
        return xtnn::read_architecture(file);
    }
#ifdef XTNN_MNIST_ONNX
    return xtnn::read_onnx_architecture(file);
#else
    throw xtnn::io_error("mnist: '" + file.string() +
                         "': this program was built without xtnn's ONNX component "
                         "(libonnx-dev), so it reads .npz weight files only");
#endif
}

} // namespace

namespace {

/// The model a file's record describes, built as whichever of the program's model types it is
/// (xtnn::from_description); without a record, nothing.
/// @throws xtnn::io_error naming the file and the record if it is none of them, with the
/// reason the nearest one gave (the first layer that differs).
std::optional<any_model> model_of_record(const std::filesystem::path& weights) {
    const auto record = recorded_architecture(weights);
    if (!record) {
        return std::nullopt;
    }
    std::optional<any_model> model;
    std::string nearest; // why a type with as many layers refused
    [&]<class... Model>(std::variant<Model...>*) {
        (
            [&] {
                if (model) {
                    return;
                }
                try {
                    model.emplace(std::in_place_type<Model>,
                                  xtnn::from_description<Model>(record->model));
                } catch (const xtnn::config_error& e) {
                    if (record->model.layers.size() == Model::size && nearest.empty()) {
                        nearest = e.what();
                    }
                }
            }(),
            ...);
    }(static_cast<any_model*>(nullptr));
    if (!model) {
        throw xtnn::io_error(
            "mnist: '" + weights.string() + "' holds a model this program does not build: " +
            record->model.to_string() + (nearest.empty() ? std::string() : " (" + nearest + ")"));
    }
    return model;
}

/// What train() lets one choose, read off a model.
model_description description_of(const any_model& model) {
    return std::visit(
        []<class Model>(const Model& m) -> model_description {
            if constexpr (std::same_as<Model, mlp_type>) {
                return {architecture::mlp, m.template layer<0>().out_features(),
                        m.template layer<2>().rate()};
            } else if constexpr (std::same_as<Model, cnn_type>) {
                return {architecture::cnn, 0, m.template layer<7>().rate()};
            } else {
                return {architecture::cnn, 0, m.template layer<8>().rate(),
                        m.template layer<0>().options()};
            }
        },
        model);
}

} // namespace

model_description describe_weights(const std::filesystem::path& weights) {
    if (const auto model = model_of_record(weights)) {
        // The file says what it holds; load_weights then checks every layer against it.
        return description_of(*model);
    }
    if (is_onnx(weights)) { // from another exporter: the CNN, if every node says so
        return {architecture::cnn, 0, recipe(architecture::cnn).dropout};
    }
    const auto arrays = xtnn::read_npz_headers(weights);
    const auto* first = shape_of(arrays, "0.weight");
    if (first != nullptr && first->size() == 4) {
        return {architecture::cnn, 0, recipe(architecture::cnn).dropout};
    }
    if (first != nullptr && first->size() == 2 && shape_of(arrays, "3.weight") != nullptr) {
        return {architecture::mlp, (*first)[0], recipe(architecture::mlp).dropout};
    }
    throw xtnn::io_error(
        "mnist: '" + weights.string() +
        "' holds neither model train writes: its first array '0.weight' is " +
        (first == nullptr ? std::string("missing") : "of shape " + xtnn::format_shape(*first)) +
        "; expected (hidden, 784) with '3.weight' (the MLP) or (32, 1, 3, 3) "
        "(the CNN)");
}

any_model load_model(const std::filesystem::path& weights) {
    auto model = [&]() -> any_model {
        if (auto recorded = model_of_record(weights)) {
            return std::move(*recorded);
        }
        const auto description = describe_weights(weights);
        if (description.kind == architecture::mlp) {
            return make_mlp(description.hidden, description.dropout);
        }
        return make_cnn(description.dropout);
    }();
    std::visit(
        [&](auto& m) {
            if (!is_onnx(weights)) {
                xtnn::load_weights(m, weights);
                return;
            }
#ifdef XTNN_MNIST_ONNX
            xtnn::load_onnx(m, weights);
#endif
        },
        model);
    return model;
}

void export_onnx(const std::filesystem::path& weights, const std::filesystem::path& onnx) {
#ifdef XTNN_MNIST_ONNX
    auto model = load_model(weights);
    std::visit(
        [&]<class Model>(Model& m) {
            if constexpr (Model::input_rank == 4) {
                xtnn::save_onnx(m, onnx, {1, 1, 28, 28});
            } else {
                xtnn::save_onnx(m, onnx, {1, 784});
            }
        },
        model);
#else
    throw xtnn::io_error("mnist: cannot write '" + onnx.string() +
                         "': this program was built without xtnn's ONNX component (libonnx-dev)");
#endif
}

evaluation_report evaluate(const std::filesystem::path& data_directory,
                           const std::filesystem::path& weights) {
    auto model = load_model(weights);
    const auto data = load_checked(data_directory);
    return std::visit(
        [&]<class Model>(Model& m) -> evaluation_report {
            // One forward pass: the loss, the confusion matrix and, from it, the accuracy.
            const auto logits = xtnn::predict(m, inputs_for<Model>(data.test.images));
            xtnn::confusion_matrix confusion(10);
            confusion.update(logits, data.test.labels);
            const double loss = xtnn::softmax_cross_entropy{}.value(logits, data.test.labels);
            return {loss, confusion.result(), confusion};
        },
        model);
}

xtnn::vision::number_reading read_image(any_model& model, const xtnn::vision::gray_image& image,
                                        const xtnn::vision::digit_options& options) {
    return std::visit([&](auto& m) { return xtnn::vision::read_number(m, image, options); }, model);
}

prediction predict_file(any_model& model, const std::filesystem::path& file,
                        const std::filesystem::path& preprocessed,
                        const xtnn::vision::digit_options& options) {
    prediction p{file, read_image(model, load_gray_image(file), options)};
    if (!preprocessed.empty()) {
        std::filesystem::create_directories(preprocessed);
        for (std::size_t i = 0; i < p.reading.digits.size(); ++i) {
            save_gray_image(p.reading.digits[i].input,
                            preprocessed / (file.filename().string() + "." + std::to_string(i + 1) +
                                            ".28x28.png"));
        }
    }
    return p;
}

photo_report read_photos(any_model& model, const std::filesystem::path& data,
                         const photo_options& options, const std::filesystem::path& output) {
    const auto photos = make_photos(load_checked(data).test, options);
    std::ofstream labels;
    if (!output.empty()) {
        std::filesystem::create_directories(output);
        labels.open(output / "labels.csv");
        labels << "file,label,conditions\n";
    }
    photo_report report;
    for (const auto& photo : photos) {
        if (!output.empty()) {
            std::ofstream file(output / photo.name, std::ios::binary);
            file.write(reinterpret_cast<const char*>(photo.bytes.data()),
                       static_cast<std::streamsize>(photo.bytes.size()));
            labels << photo.name << "," << photo.label << ",\"" << photo.conditions << "\"\n";
            if (!file || !labels) {
                throw xtnn::io_error("read_photos: cannot write '" +
                                     (output / photo.name).string() + "'");
            }
        }
        std::string read;
        try {
            read = read_image(model, decode_gray_image(photo.bytes, photo.name)).number;
        } catch (const xtnn::vision::no_digit_error& e) {
            ++report.refused;
            read = std::string("(") + e.what() + ")";
        }
        const bool single = photo.label.size() == 1;
        const bool right = read == photo.label;
        (single ? report.singles : report.numbers) += 1;
        (single ? report.singles_right : report.numbers_right) += right ? 1U : 0U;
        if (!single) {
            report.number_digits += photo.label.size();
            if (read.size() == photo.label.size()) {
                for (std::size_t i = 0; i < read.size(); ++i) {
                    report.number_digits_right += read[i] == photo.label[i] ? 1U : 0U;
                }
            }
        }
        if (!right) {
            report.mistakes.push_back(photo.name + ": read " + read + ", written " + photo.label +
                                      " (" + photo.conditions + ")");
        }
    }
    return report;
}

} // namespace mnist
