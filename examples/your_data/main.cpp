// Your own data: tensors from a std::vector or a C array, a regression model with validation
// data and a callback of your own, class weights for imbalanced classes, one prediction.
// docs/getting-started.md ("Your own data") shows this file; the tests build and run it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <xtensor/xadapt.hpp>

#include <xtnn/xtnn.hpp>

// [callback]
// A callback is any struct with the hooks it needs (on_train_begin, on_epoch_begin,
// on_batch_end, on_epoch_end, on_train_end); each gets the training state.
struct print_every {
    std::size_t period;
    template <class State>
    void on_epoch_end(State& state) {
        if ((state.epoch + 1) % period == 0) {
            std::printf("epoch %zu: loss %.5f, val_loss %.5f\n", state.epoch + 1, state.log("loss"),
                        state.log("val_loss"));
        }
    }
};
// [callback]

int main() {
    // [adapt]
    // Samples in a std::vector (row after row) become a tensor (samples, features) by copying
    // through xt::adapt; a C array the same way, through a pointer and its size.
    std::vector<float> values;
    std::vector<float> targets;
    for (int i = 0; i < 400; ++i) {
        const float x = -2.0f + 4.0f * static_cast<float>(i) / 399.0f;
        values.push_back(x);
        targets.push_back(std::sin(2.0f * x) + 0.5f * x); // the function to learn
    }
    const std::size_t n = targets.size();
    const xtnn::tensor<float, 2> x = xt::adapt(values, xtnn::shape<2>{n, 1});
    const xtnn::tensor<float, 1> y = xt::adapt(targets, xtnn::shape<1>{n});

    const float raw[4][1] = {{-1.5f}, {-0.5f}, {0.5f}, {1.5f}};
    const xtnn::tensor<float, 2> x_check =
        xt::adapt(&raw[0][0], 4, xt::no_ownership(), xtnn::shape<2>{4, 1});
    // [adapt]

    // [regression]
    // One output and targets (samples): mean_squared_error takes them as (samples, 1).
    xtnn::sequential model{xtnn::dense{1, 64}, xtnn::tanh{}, xtnn::dense{64, 64}, xtnn::tanh{},
                           xtnn::dense{64, 1}};
    model.initialize(1);
    xtnn::trainer trainer{model, xtnn::mean_squared_error{}, xtnn::adam({.learning_rate = 3e-3})};
    // Every fourth sample validates; the rest train.
    std::vector<std::size_t> train_rows, validation_rows;
    for (std::size_t i = 0; i < n; ++i) {
        (i % 4 == 0 ? validation_rows : train_rows).push_back(i);
    }
    xtnn::tensor<float, 2> x_train, x_val;
    xtnn::tensor<float, 1> y_train, y_val;
    xtnn::gather_rows(x, std::span<const std::size_t>(train_rows), x_train);
    xtnn::gather_rows(y, std::span<const std::size_t>(train_rows), y_train);
    xtnn::gather_rows(x, std::span<const std::size_t>(validation_rows), x_val);
    xtnn::gather_rows(y, std::span<const std::size_t>(validation_rows), y_val);
    const auto history = trainer.fit(
        x_train, y_train, xtnn::validation_data{x_val, y_val},
        {.epochs = 300, .batch_size = 32, .seed = 2, .verbose = xtnn::verbosity::silent},
        print_every{100});
    const double val_loss = history["val_loss"].back();
    // [regression]

    // [predict_one]
    // One sample without the batch axis gives one output without it: here (1).
    const xtnn::tensor<float, 1> at_one = xtnn::predict(model, xtnn::tensor<float, 1>{1.0f});
    std::printf("f(1) = %.3f, predicted %.3f\n", std::sin(2.0) + 0.5,
                static_cast<double>(at_one(0)));
    const auto checks = xtnn::predict(model, x_check); // (4, 1)
    // [predict_one]

    // [class_weight]
    // Imbalanced classes: 90% of class 0. Weighting each class by n / (classes * count), as
    // Keras' "balanced", makes both classes count the same in the loss.
    const auto spirals = xtnn::make_two_spirals<float>({.samples_per_class = 450, .seed = 3});
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < spirals.labels.size(); ++i) {
        if (spirals.labels(i) == 0 || i % 9 == 0) {
            keep.push_back(i);
        }
    }
    xtnn::tensor<float, 2> features;
    xtnn::tensor<std::int64_t, 1> labels;
    xtnn::gather_rows(spirals.features, std::span<const std::size_t>(keep), features);
    xtnn::gather_rows(spirals.labels, std::span<const std::size_t>(keep), labels);
    double count[2] = {0, 0};
    for (auto label : labels) {
        count[label] += 1;
    }
    const double total = count[0] + count[1];
    const std::vector<double> balanced = {total / (2 * count[0]), total / (2 * count[1])};

    xtnn::sequential classifier{xtnn::dense{2, 64}, xtnn::relu{}, xtnn::dense{64, 64}, xtnn::relu{},
                                xtnn::dense{64, 2}};
    classifier.initialize(4);
    xtnn::trainer weighted{classifier, xtnn::softmax_cross_entropy{},
                           xtnn::adam({.learning_rate = 3e-3}), xtnn::accuracy{}};
    weighted.fit(features, labels,
                 {.epochs = 150,
                  .batch_size = 32,
                  .seed = 5,
                  .verbose = xtnn::verbosity::silent,
                  .class_weight = balanced});
    // [class_weight]

    // How well each class is recognized: the rare class too.
    const auto predicted = xtnn::predict_classes(classifier, features);
    double right[2] = {0, 0};
    for (std::size_t i = 0; i < labels.size(); ++i) {
        right[labels(i)] += predicted(i) == labels(i) ? 1 : 0;
    }
    const double recall0 = right[0] / count[0], recall1 = right[1] / count[1];
    std::printf("regression: val_loss %.5f, f(-1.5..1.5) predicted %.2f %.2f %.2f %.2f\n", val_loss,
                static_cast<double>(checks(0, 0)), static_cast<double>(checks(1, 0)),
                static_cast<double>(checks(2, 0)), static_cast<double>(checks(3, 0)));
    std::printf("class weights %.2f, %.2f: recall of class 0 %.1f%%, of the rare class 1 %.1f%%\n",
                balanced[0], balanced[1], 100 * recall0, 100 * recall1);
    const bool ok = val_loss < 0.01 &&
                    std::abs(at_one(0) - static_cast<float>(std::sin(2.0) + 0.5)) < 0.1 &&
                    recall1 > 0.9 && recall0 > 0.9;
    std::printf("%s\n", ok ? "your data: ok" : "your data: FAILED");
    return ok ? 0 : 1;
}
