// Two spirals: trains a small MLP to separate two interleaved spirals with xtnn's trainer,
// then draws the decision regions it learned as text.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <xtnn/xtnn.hpp>

namespace {

struct options {
    std::size_t epochs = 200;
    std::size_t batch_size = 32;
    std::size_t hidden = 64;
    std::size_t samples = 400;
    double learning_rate = 0.01;
    std::uint64_t seed = 42;
    bool quiet = false;
    std::string output;
};

// Draws the plane from -1.2 to 1.2: '.' and ':' are the two predicted classes, 'o' and 'x'
// training points of class 0 and 1.
template <class Model>
void draw(Model& model, const xtnn::labelled_data<float>& data) {
    const std::size_t width = 64, height = 28;
    xtnn::tensor<float, 2> grid(xtnn::shape<2>{width * height, 2});
    for (std::size_t r = 0; r < height; ++r) {
        for (std::size_t c = 0; c < width; ++c) {
            grid(r * width + c, 0) = -1.2f + 2.4f * (static_cast<float>(c) + 0.5f) / width;
            grid(r * width + c, 1) = 1.2f - 2.4f * (static_cast<float>(r) + 0.5f) / height;
        }
    }
    const auto& logits = model.forward(grid);
    std::vector<std::string> canvas(height, std::string(width, ' '));
    for (std::size_t i = 0; i < width * height; ++i) {
        canvas[i / width][i % width] = logits(i, 1) > logits(i, 0) ? ':' : '.';
    }
    for (std::size_t i = 0; i < data.labels.size(); ++i) {
        const auto c = static_cast<long>((data.features(i, 0) + 1.2f) / 2.4f * width);
        const auto r = static_cast<long>((1.2f - data.features(i, 1)) / 2.4f * height);
        if (c >= 0 && r >= 0 && c < static_cast<long>(width) && r < static_cast<long>(height)) {
            canvas[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] =
                data.labels(i) == 0 ? 'o' : 'x';
        }
    }
    for (const auto& line : canvas) {
        std::cout << "  " << line << "\n";
    }
}

} // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"Train an MLP to separate two spirals (a small xtnn example)"};
    app.add_option("--epochs", o.epochs, "Passes over the training set")
        ->check(CLI::PositiveNumber);
    app.add_option("--batch-size", o.batch_size, "Samples per step")->check(CLI::PositiveNumber);
    app.add_option("--hidden", o.hidden, "Units in each hidden layer")->check(CLI::PositiveNumber);
    app.add_option("--samples", o.samples, "Training points per spiral")
        ->check(CLI::PositiveNumber);
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", o.seed, "Seed of the data, the weights and the shuffling");
    app.add_flag("--quiet", o.quiet, "Print only the final figures");
    app.add_option("--output", o.output, "Save the trained weights to this .npz file");
    CLI11_PARSE(app, argc, argv);

    try {
        const auto train = xtnn::make_two_spirals<float>(
            {.samples_per_class = o.samples, .seed = xtnn::derive_seed(o.seed, 0)});
        const auto test = xtnn::make_two_spirals<float>(
            {.samples_per_class = o.samples, .seed = xtnn::derive_seed(o.seed, 1)});
        xtnn::sequential model{xtnn::dense{2, o.hidden}, xtnn::relu{},
                               xtnn::dense{o.hidden, o.hidden}, xtnn::relu{},
                               xtnn::dense{o.hidden, 2}};
        model.initialize(o.seed);
        if (!o.quiet) {
            std::cout << model.summary({o.batch_size, 2}) << "\n";
        }

        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                              xtnn::adam({.learning_rate = o.learning_rate}), xtnn::accuracy{}};
        const auto start = std::chrono::steady_clock::now();
        const auto history = trainer.fit(
            train.features, train.labels, xtnn::validation_data{test.features, test.labels},
            {.epochs = o.epochs,
             .batch_size = o.batch_size,
             .seed = o.seed,
             .verbose = o.quiet ? xtnn::verbosity::silent : xtnn::verbosity::automatic});
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!o.output.empty()) {
            xtnn::save_weights(model, o.output);
            std::cout << "weights saved to " << o.output << "\n";
        }

        if (!o.quiet) {
            std::cout << "\nDecision regions ('.' class 0, ':' class 1; o/x training points):\n";
            draw(model, train);
        }
        const auto report = trainer.evaluate(test.features, test.labels);
        std::cout << "training time: " << seconds << " s for " << history.size() << " epochs\n";
        std::cout << "test loss: " << report.loss() << "\n";
        std::cout << "test accuracy: " << 100 * report["accuracy"] << "%\n";
    } catch (const std::exception& e) {
        std::cerr << "two_spirals: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
