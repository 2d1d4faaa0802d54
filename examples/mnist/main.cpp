// The MNIST digit recognizer: the Keras tutorial this project began as, as a program.
//   xtnn_example_mnist train [--model cnn] [--epochs 5 …]  train, evaluate, save weights, pictures
//     (killed, the same command run again resumes from its backup; --fresh starts over)
//   xtnn_example_mnist evaluate --weights FILE      loss, accuracy, per digit, confusion matrix
//   xtnn_example_mnist predict --weights FILE IMAGE…  read your own handwritten digits, numbers
//   xtnn_example_mnist photos --weights FILE        measure it on photos of held-out digits
//   xtnn_example_mnist serve --weights FILE [--host 127.0.0.1] [--port 8000]   the page
//   xtnn_example_mnist export --weights FILE --onnx OUT.onnx   the model as an ONNX file
// evaluate and predict tell from the weight file (.npz or .onnx) which model it holds.
// Started by mpirun, train is data-parallel over the processes: `mpirun -np 2
// xtnn_example_mnist train …` prints and writes once, from rank 0 (docs/distributed.md).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "recognizer.hpp"
#include "server.hpp"

#ifdef XTNN_MNIST_MPI
#include <xtnn/mpi.hpp>
#endif

#ifndef XTNN_MNIST_DEFAULT_DATA
#define XTNN_MNIST_DEFAULT_DATA "data/mnist"
#endif

namespace {

void print_train(const mnist::train_result& result, bool quiet) {
    if (!quiet) {
        std::printf("\ntraining time: %.2f s for %zu epochs\n", result.seconds,
                    result.history.size());
    }
    std::printf("test loss: %.4f\ntest accuracy: %.2f%%\n", result.test_loss,
                100 * result.test_accuracy);
    if (!quiet) {
        std::printf("\nwrote:\n");
        for (const auto& file : result.files) {
            std::printf("  %s\n", file.string().c_str());
        }
    }
}

void print_evaluation(const mnist::evaluation_report& report) {
    std::printf("test loss: %.4f\ntest accuracy: %.2f%%\n\naccuracy per digit:\n", report.loss,
                100 * report.accuracy);
    const auto recall = report.confusion.recall();
    const auto& counts = report.confusion.matrix();
    for (std::size_t d = 0; d < recall.size(); ++d) {
        unsigned long long total = 0;
        for (std::size_t j = 0; j < counts.shape(1); ++j) {
            total += counts(d, j);
        }
        std::printf("  %zu: %6.2f%% of %llu\n", d, 100 * recall[d], total);
    }
    std::printf("\nconfusion matrix (rows: true digit, columns: predicted):\n%s",
                report.confusion.to_string().c_str());
}

void print_prediction(const mnist::prediction& p) {
    std::printf("%s: %s (", p.file.string().c_str(), p.reading.number.c_str());
    for (std::size_t i = 0; i < p.reading.digits.size(); ++i) {
        std::printf("%s%.1f%%", i == 0 ? "" : " ", 100 * p.reading.digits[i].confidence());
    }
    std::printf(")\n");
    for (const auto& d : p.reading.digits) {
        std::printf("  %d:", d.digit);
        for (std::size_t c = 0; c < d.probabilities.size(); ++c) {
            std::printf(" %zu:%.3f", c, static_cast<double>(d.probabilities[c]));
        }
        std::printf("\n");
    }
}

void print_photos(const mnist::photo_report& r, bool mistakes) {
    const auto percent = [](std::size_t a, std::size_t b) {
        return b == 0 ? 0.0 : 100.0 * static_cast<double>(a) / static_cast<double>(b);
    };
    std::printf("single digits: %zu of %zu right (%.1f%%)\n", r.singles_right, r.singles,
                percent(r.singles_right, r.singles));
    std::printf("whole numbers: %zu of %zu right (%.1f%%)\n", r.numbers_right, r.numbers,
                percent(r.numbers_right, r.numbers));
    std::printf("digits of the numbers: %zu of %zu right in place (%.1f%%)\n",
                r.number_digits_right, r.number_digits,
                percent(r.number_digits_right, r.number_digits));
    std::printf("photos where no digit was found: %zu\n", r.refused);
    if (mistakes) {
        for (const auto& m : r.mistakes) {
            std::printf("  %s\n", m.c_str());
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Recognize handwritten digits: the Keras MNIST tutorial with xtnn"};
    app.require_subcommand(1);
    std::filesystem::path data = XTNN_MNIST_DEFAULT_DATA;

    mnist::train_options t;
    t.data = data;
    auto* train = app.add_subcommand(
        "train", "Train the tutorial's MLP or convnet, evaluate it on the test digits, save the "
                 "weights, the history and pictures");
    train->add_option("--data", t.data, "Directory of the four MNIST IDX files (plain or .gz)")
        ->capture_default_str();
    train->add_option("--output", t.output, "Directory for weights, history.csv and pictures")
        ->capture_default_str();
    const auto mlp = mnist::recipe(mnist::architecture::mlp);
    const auto cnn = mnist::recipe(mnist::architecture::cnn);
    const auto plain_cnn = mnist::recipe(mnist::architecture::cnn, false);
    const auto per_model = [&](const std::string& what, auto field) {
        std::ostringstream text;
        text << what << " (default: mlp " << mlp.*field << ", cnn " << cnn.*field;
        if (plain_cnn.*field != cnn.*field) {
            text << ", cnn --augment false " << plain_cnn.*field;
        }
        text << ")";
        return text.str();
    };
    train
        ->add_option("--model", t.model,
                     "mlp: the tutorial's dense network; cnn: its convnet (slower, more accurate)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, mnist::architecture>{{"mlp", mnist::architecture::mlp},
                                                       {"cnn", mnist::architecture::cnn}},
            CLI::ignore_case))
        ->default_str("mlp");
    train
        ->add_option("--epochs", t.epochs,
                     per_model("Passes over the training digits", &mnist::training_recipe::epochs))
        ->check(CLI::PositiveNumber);
    train
        ->add_option("--batch-size", t.batch_size,
                     per_model("Digits per training step", &mnist::training_recipe::batch_size))
        ->check(CLI::PositiveNumber);
    train->add_option("--hidden", t.hidden, "Units of the MLP's hidden layer")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    train
        ->add_option(
            "--dropout", t.dropout,
            per_model("Dropout rate before the last layer", &mnist::training_recipe::dropout))
        ->check(CLI::Range(0.0, 0.99));
    train->add_option("--augment", t.augment,
                      "Train the CNN on randomly shifted, turned and zoomed digits: better on "
                      "people's handwriting (true or false; default: cnn true)");
    train->add_option("--cosine-decay", t.cosine_decay,
                      "Decay the learning rate to 0 over the epochs, along a cosine (true or "
                      "false; default: mlp false, cnn true)");
    train
        ->add_option(
            "--learning-rate", t.learning_rate,
            per_model("Adam's (starting) learning rate", &mnist::training_recipe::learning_rate))
        ->check(CLI::PositiveNumber);
    train
        ->add_option("--validation-split", t.validation_split,
                     "Validate on this fraction of the training digits instead of the test "
                     "digits")
        ->check(CLI::Range(0.0, 0.9))
        ->capture_default_str();
    train->add_option("--seed", t.seed, "Seed of the weights, dropout and shuffling")
        ->capture_default_str();
    train->add_option("--limit", t.limit, "Train on the first N digits only (0: all)")
        ->capture_default_str();
    train->add_flag(
        "--no-pictures", [&t](std::int64_t) { t.pictures = false; }, "Skip the PNG pictures");
    train->add_flag("--quiet", t.quiet, "Print only the test figures");
    train
        ->add_option("--backup-every", t.backup_every,
                     "Back up the training every N batches and at each epoch's end, to resume "
                     "from if the run is killed (0: at the ends of epochs only)")
        ->capture_default_str();
    train->add_flag("--fresh", t.fresh,
                    "Train afresh even if an interrupted run left a backup in the output "
                    "directory (by default training resumes from it)");

    // By default the CNN's weights when train wrote them (it reads people's digits better),
    // else the MLP's.
    std::filesystem::path weights = std::filesystem::exists("mnist-output/mnist_cnn.npz")
                                        ? "mnist-output/mnist_cnn.npz"
                                        : "mnist-output/mnist_mlp.npz";
    std::filesystem::path evaluate_data = data;
    auto* evaluate = app.add_subcommand(
        "evaluate", "Measure saved weights on the test digits: loss, accuracy, per digit, "
                    "confusion matrix");
    evaluate->add_option("--data", evaluate_data, "Directory of the four MNIST IDX files")
        ->capture_default_str();

    std::vector<std::filesystem::path> images;
    std::filesystem::path preprocessed;
    auto* predict = app.add_subcommand(
        "predict", "Read your own handwritten digits: photos, scans or drawings of a digit or a "
                   "row of digits (a number), PNG or JPEG, any size, dark on light or light on "
                   "dark");
    predict->add_option("images", images, "Image files")->required()->check(CLI::ExistingFile);
    predict->add_option("--save-preprocessed", preprocessed,
                        "Also write the 28 x 28 digit the model sees for each image here");
    mnist::photo_options photo_options;
    std::filesystem::path photo_data = data, photo_output;
    bool list_mistakes = false;
    auto* photos = app.add_subcommand(
        "photos", "Measure the recognizer on photos of held-out test digits on paper (uneven "
                  "light, shadows, pens, blur, JPEG): single digits and numbers of 2-6 digits");
    photos->add_option("--data", photo_data, "Directory of the four MNIST IDX files")
        ->capture_default_str();
    photos->add_option("--singles", photo_options.singles, "Photos of one digit")
        ->capture_default_str();
    photos->add_option("--numbers", photo_options.numbers, "Photos of 2-6 digits")
        ->capture_default_str();
    photos->add_option("--seed", photo_options.seed, "Seed of the photos")->capture_default_str();
    photos->add_option("--output", photo_output,
                       "Also write the photos and labels.csv into this directory");
    photos->add_flag("--mistakes", list_mistakes, "List the photos read wrong");
    mnist::serve_options serve_options;
    auto* serve = app.add_subcommand(
        "serve", "Serve the draw-a-digit page and its API (POST /api/predict) over HTTP");
    serve
        ->add_option("--host", serve_options.host,
                     "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every "
                     "network)")
        ->capture_default_str();
    serve->add_option("--port", serve_options.port, "Port (0: any free port)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    serve
        ->add_option("--workers", serve_options.workers,
                     "Models answering at once (one request each)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    std::vector<CLI::App*> reading{evaluate, predict, photos, serve};
    std::filesystem::path onnx;
    CLI::App* export_command = nullptr;
    if (mnist::has_onnx()) {
        export_command = app.add_subcommand(
            "export", "Write the model of a weight file as an ONNX file (for ONNX runtimes, "
                      "OpenCV, PyTorch's tools)");
        export_command->add_option("--onnx", onnx, "The ONNX file to write")->required();
        reading.push_back(export_command);
    }
    for (auto* command : reading) {
        command
            ->add_option("--weights", weights,
                         std::string("Weights saved by train, the MLP's or the CNN's: the file "
                                     "tells which (default: mnist-output/mnist_cnn.npz if it "
                                     "exists)") +
                             (mnist::has_onnx() ? "; or a model exported as .onnx" : ""))
            ->capture_default_str();
    }
    CLI11_PARSE(app, argc, argv);

#ifdef XTNN_MNIST_MPI
    // Under mpirun (not alone: starting MPI takes a process 0.4 s) train runs data-parallel.
    std::optional<xtnn::mpi::environment> mpi;
    std::optional<xtnn::mpi::communicator> world;
    if (train->parsed() && xtnn::mpi::launched()) {
        mpi.emplace(argc, argv);
        world.emplace();
        t.distributed = &*world;
    }
#endif
    const bool primary = t.distributed == nullptr || t.distributed->rank() == 0;
    try {
        if (train->parsed()) {
            const auto result = mnist::train(t, std::cout);
            if (primary) {
                print_train(result, t.quiet);
            }
        } else if (evaluate->parsed()) {
            print_evaluation(mnist::evaluate(evaluate_data, weights));
        } else if (export_command != nullptr && export_command->parsed()) {
            mnist::export_onnx(weights, onnx);
            std::printf("wrote %s (ONNX, opset 13) from %s\n", onnx.string().c_str(),
                        weights.string().c_str());
        } else if (serve->parsed()) {
            // SIGINT and SIGTERM are waited for here, not handled in whichever thread they hit:
            // the workers start with them blocked.
            sigset_t signals;
            sigemptyset(&signals);
            sigaddset(&signals, SIGINT);
            sigaddset(&signals, SIGTERM);
            pthread_sigmask(SIG_BLOCK, &signals, nullptr);
            mnist::digit_server server(weights, serve_options);
            std::thread serving([&] { server.run(); });
            std::printf("serving http://%s:%d (model %s; Ctrl-C stops)\n",
                        serve_options.host.c_str(), server.port(), weights.string().c_str());
            std::fflush(stdout);
            int signal = 0;
            sigwait(&signals, &signal);
            server.stop();
            serving.join();
            std::printf("stopped\n");
        } else if (photos->parsed()) {
            auto model = mnist::load_model(weights);
            print_photos(mnist::read_photos(model, photo_data, photo_options, photo_output),
                         list_mistakes);
        } else {
            auto model = mnist::load_model(weights);
            int failures = 0;
            for (const auto& image : images) {
                try {
                    print_prediction(mnist::predict_file(model, image, preprocessed));
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "mnist: %s\n", e.what());
                    ++failures;
                }
            }
            return failures == 0 ? 0 : 1;
        }
    } catch (const std::exception& e) {
#ifdef XTNN_MNIST_MPI
        // An error fit threw on every process: rank 0 says it, all end. An error this process
        // met alone (its data, its disk): it says it and ends the job, which the others would
        // wait for.
        if (world && world->size() > 1) {
            if (dynamic_cast<const xtnn::process_failure*>(&e) != nullptr) {
                if (primary) {
                    std::fprintf(stderr, "mnist: %s\n", e.what());
                }
                return 1;
            }
            std::fprintf(stderr, "mnist (rank %zu of %zu): %s\n", world->rank(), world->size(),
                         e.what());
            std::fflush(stderr);
            world->abort(1);
        }
#endif
        std::fprintf(stderr, "mnist: %s\n", e.what());
        return 1;
    }
    return 0;
}
