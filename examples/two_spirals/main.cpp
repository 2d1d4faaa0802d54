// Two spirals: trains a small MLP to separate two interleaved spirals, then draws the decision
// regions it learned as text. A plain training loop over xtnn's sequential, loss and optimizer.
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
};

template <class Model>
double accuracy(Model& model, const xtnn::labelled_data<float>& data) {
    const auto& logits = model.forward(data.features);
    std::size_t right = 0;
    for (std::size_t r = 0; r < logits.shape()[0]; ++r) {
        const auto predicted = logits(r, 1) > logits(r, 0) ? 1 : 0;
        right += predicted == data.labels(r) ? 1 : 0;
    }
    return 100.0 * static_cast<double>(right) / static_cast<double>(logits.shape()[0]);
}

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

        xtnn::adam optimizer({.learning_rate = o.learning_rate});
        const xtnn::softmax_cross_entropy loss;
        auto params = model.parameters();
        const std::size_t n = train.labels.size();
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        xtnn::random_engine shuffle_rng(xtnn::derive_seed(o.seed, 2));
        xtnn::tensor<float, 2> x_batch, dy;
        xtnn::tensor<std::int64_t, 1> y_batch;

        const auto start = std::chrono::steady_clock::now();
        for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
            shuffle_rng.shuffle(std::span<std::size_t>(order));
            double total = 0;
            std::size_t steps = 0;
            for (std::size_t first = 0; first < n; first += o.batch_size) {
                const std::size_t b = std::min(o.batch_size, n - first);
                if (x_batch.shape()[0] != b) {
                    x_batch.resize(xtnn::shape<2>{b, 2});
                    y_batch.resize(xtnn::shape<1>{b});
                }
                for (std::size_t r = 0; r < b; ++r) {
                    x_batch(r, 0) = train.features(order[first + r], 0);
                    x_batch(r, 1) = train.features(order[first + r], 1);
                    y_batch(r) = train.labels(order[first + r]);
                }
                const auto& logits = model.forward(x_batch, xtnn::mode::training);
                total += loss.value_and_gradient(logits, y_batch, dy);
                model.backward(x_batch, dy);
                optimizer.step(params);
                ++steps;
            }
            if (!o.quiet && (epoch % 20 == 0 || epoch == 1 || epoch == o.epochs)) {
                std::cout << "epoch " << epoch << "/" << o.epochs << "  loss "
                          << total / static_cast<double>(steps) << "  train accuracy "
                          << accuracy(model, train) << "%\n";
            }
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        if (!o.quiet) {
            std::cout << "\nDecision regions ('.' class 0, ':' class 1; o/x training points):\n";
            draw(model, train);
        }
        std::cout << "training time: " << seconds << " s\n";
        std::cout << "test accuracy: " << accuracy(model, test) << "%\n";
    } catch (const std::exception& e) {
        std::cerr << "two_spirals: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
