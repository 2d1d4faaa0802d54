// Getting started: the Keras tutorial flow in xtnn, on the two-spirals problem.
// docs/getting-started.md walks through this file; the tests build and run it.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <xtnn/xtnn.hpp>

int main() {
    // [data]
    // Features (samples, 2) as floats and labels (samples) as class indices.
    const auto train = xtnn::make_two_spirals<float>({.samples_per_class = 500, .seed = 1});
    const auto test = xtnn::make_two_spirals<float>({.samples_per_class = 200, .seed = 2});
    // [data]

    // [model]
    xtnn::sequential model{xtnn::dense{2, 64},  xtnn::relu{}, xtnn::dropout{0.1},
                           xtnn::dense{64, 64}, xtnn::relu{}, xtnn::dense{64, 2}};
    model.initialize(42);
    std::cout << model.summary({32, 2});
    // [model]

    // [compile]
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 3e-3}),
                          xtnn::accuracy{}};
    // [compile]

    // [fit]
    xtnn::early_stopping early_stop({.patience = 10, .restore_best_weights = true});
    const auto history = trainer.fit(train.features, train.labels,
                                     {.epochs = 100,
                                      .batch_size = 32,
                                      .validation_split = 0.1,
                                      .seed = 7,
                                      .verbose = xtnn::verbosity::lines},
                                     early_stop);
    std::printf("best val_loss %.4f at epoch %zu\n", early_stop.best(),
                early_stop.best_epoch() + 1);
    // [fit]

    // [evaluate]
    const auto report = trainer.evaluate(test.features, test.labels);
    std::printf("test loss %.4f, test accuracy %.2f%%\n", report.loss(), 100 * report["accuracy"]);
    // [evaluate]

    // [predict]
    const auto classes = xtnn::predict_classes(model, test.features);
    const auto probabilities = xtnn::predict_probabilities(model, test.features);
    std::printf("sample 0: class %lld with probability %.3f (truth %lld)\n",
                static_cast<long long>(classes(0)),
                static_cast<double>(probabilities(0, static_cast<std::size_t>(classes(0)))),
                static_cast<long long>(test.labels(0)));
    // One sample without the batch axis gives one answer.
    const xtnn::tensor<float, 1> point = {0.5f, -0.25f};
    std::printf("the point (0.5, -0.25) is class %lld\n",
                static_cast<long long>(xtnn::predict_classes(model, point)));
    // [predict]

    // [save]
    const auto path = std::filesystem::temp_directory_path() / "xtnn_getting_started.npz";
    xtnn::save_weights(model, path);
    xtnn::sequential restored{xtnn::dense{2, 64},  xtnn::relu{}, xtnn::dropout{0.1},
                              xtnn::dense{64, 64}, xtnn::relu{}, xtnn::dense{64, 2}};
    xtnn::load_weights(restored, path);
    const bool same = xtnn::predict_classes(restored, test.features) == classes;
    std::printf("reloaded model agrees: %s\n", same ? "yes" : "no");
    std::filesystem::remove(path);
    // [save]

    // [resume]
    // Backed up at the end of every epoch and every 10 batches: if the program is killed, the
    // same call run again goes on from the backup, to the bits of a run never interrupted.
    const auto backup = std::filesystem::temp_directory_path() / "xtnn_getting_started_backup.npz";
    trainer.fit(train.features, train.labels,
                {.epochs = 10,
                 .seed = 7,
                 .verbose = xtnn::verbosity::silent,
                 .backup = {.path = backup, .every_batches = 10}});
    std::printf("backup left after training: %s\n", std::filesystem::exists(backup) ? "yes" : "no");
    // [resume]
    return report["accuracy"] > 0.95 && same && !std::filesystem::exists(backup) ? 0 : 1;
}
