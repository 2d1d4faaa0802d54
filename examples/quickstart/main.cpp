// The README's first example, whole: the Keras tutorial's model trained on MNIST. README.md
// shows the two regions below; the tests build and run this file on the prepared digits, and
// benchmarks/results.py times its compilation (the goal: at most 10 s at -O2).
//   xtnn_example_quickstart [MNIST directory, default data/mnist]
#include <cstdio>
#include <iostream>

// [include]
#include <xtnn/xtnn.hpp>
// [include]

int main(int argc, char** argv) try {
    const auto mnist = xtnn::load_mnist(argc > 1 ? argv[1] : "data/mnist");
    const auto x_train = xtnn::to_features(mnist.train.images);
    const auto x_test = xtnn::to_features(mnist.test.images);
    const auto& y_train = mnist.train.labels;
    const auto& y_test = mnist.test.labels;

    // [quickstart]
    // sequential<dense<float>, relu, dropout, dense<float>>: one concrete type, no virtual calls.
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
                           xtnn::dense{128, 10}};
    std::cout << model.summary({32, 784});

    // Keras' compile / fit / evaluate / predict:
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 1e-3}),
                          xtnn::accuracy{}};
    auto history = trainer.fit(x_train, y_train, // (N, 784) floats, (N) class indices
                               {.epochs = 5, .batch_size = 32, .validation_split = 0.1, .seed = 42},
                               xtnn::early_stopping({.patience = 2, .restore_best_weights = true}));
    auto report = trainer.evaluate(x_test, y_test); // report.loss(), report["accuracy"]
    auto digits = xtnn::predict_classes(model, x_test);
    xtnn::save_weights(model, "mnist_mlp.npz"); // numpy.load and PyTorch can read it
    // [quickstart]

    std::printf("trained %zu epochs; test accuracy %.2f%%; the first test digit reads %d\n",
                history.epochs().size(), 100 * report["accuracy"], static_cast<int>(digits(0)));
    return 0;
} catch (const std::exception& error) {
    std::fprintf(stderr, "quickstart: %s\n", error.what());
    return 1;
}
