// class_weight and sample_weight in fit and evaluate: the loss is the weighted mean of the
// per-sample losses (PyTorch's normalization); the metrics count every sample once.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/training.hpp"

namespace {

auto make_model(std::uint64_t seed) {
    xtnn::sequential model{xtnn::dense{2, 16}, xtnn::tanh{}, xtnn::dense{16, 2}};
    model.initialize(seed);
    return model;
}

const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 60, .seed = 5});
constexpr auto silent = xtnn::verbosity::silent;

} // namespace

TEST_CASE("sample weights: evaluate's loss is the class-weighted mean of per-sample losses",
          "[model][sample_weights]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    const std::vector<double> class_weight = {0.25, 3.0};
    // The reference: each sample's loss on its own, weighted by its class's weight.
    const auto logits = xtnn::predict(model, data.features);
    double weighted = 0, total = 0;
    for (std::size_t r = 0; r < data.labels.size(); ++r) {
        const xtnn::tensor<float, 2> row = {{logits(r, 0), logits(r, 1)}};
        const xtnn::tensor<std::int64_t, 1> label = {data.labels(r)};
        const double w = class_weight[static_cast<std::size_t>(data.labels(r))];
        weighted += w * xtnn::softmax_cross_entropy{}.value(row, label);
        total += w;
    }
    const auto report = trainer.evaluate(data.features, data.labels,
                                         {.batch_size = 7, .class_weight = class_weight});
    CHECK(report.loss() == Approx(weighted / total).epsilon(1e-5));
    // The metrics are not weighted.
    CHECK(report["accuracy"] == trainer.evaluate(data.features, data.labels)["accuracy"]);
    // Sample weights multiply class weights: sample weights equal to the class weights and
    // class weights of 1 give the same loss.
    std::vector<double> per_sample;
    for (auto label : data.labels) {
        per_sample.push_back(class_weight[static_cast<std::size_t>(label)]);
    }
    CHECK(trainer.evaluate(data.features, data.labels, {.sample_weight = per_sample}).loss() ==
          Approx(report.loss()).epsilon(1e-6));
    CHECK(trainer
              .evaluate(data.features, data.labels,
                        {.class_weight = {1.0, 1.0}, .sample_weight = per_sample})
              .loss() == Approx(report.loss()).epsilon(1e-6));
}

TEST_CASE("sample weights: fit with equal weights trains exactly as without",
          "[model][sample_weights]") {
    auto plain = make_model(2);
    auto doubled = make_model(2);
    xtnn::trainer a{plain, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    xtnn::trainer b{doubled, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    const auto ha =
        a.fit(data.features, data.labels, {.epochs = 3, .batch_size = 16, .verbose = silent});
    const auto hb = b.fit(data.features, data.labels,
                          {.epochs = 3,
                           .batch_size = 16,
                           .verbose = silent,
                           .class_weight = {2.0, 2.0},
                           .sample_weight = std::vector<double>(data.labels.size(), 2.0)});
    CHECK(xtnn::test::parameters_of(plain) == xtnn::test::parameters_of(doubled));
    CHECK(ha["loss"] == hb["loss"]);
}

TEST_CASE("sample weights: a sample of weight 0 does not train the model",
          "[model][sample_weights]") {
    // One full batch, no shuffle: weights of 0 on the second half equal training on the first.
    const std::size_t n = data.labels.size();
    const std::size_t half = n / 2;
    xtnn::tensor<float, 2> first_x(xtnn::shape<2>{half, 2});
    xtnn::tensor<std::int64_t, 1> first_y(xtnn::shape<1>{half});
    std::vector<std::size_t> rows(half);
    for (std::size_t i = 0; i < half; ++i) {
        rows[i] = i;
    }
    xtnn::gather_rows(data.features, std::span<const std::size_t>(rows), first_x);
    xtnn::gather_rows(data.labels, std::span<const std::size_t>(rows), first_y);
    std::vector<double> w(n, 0.0);
    std::fill(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(half), 1.0);

    auto on_half = make_model(3);
    auto weighted = make_model(3);
    xtnn::trainer a{on_half, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.5})};
    xtnn::trainer b{weighted, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.5})};
    const auto ha = a.fit(first_x, first_y,
                          {.epochs = 5, .batch_size = n, .shuffle = false, .verbose = silent});
    const auto hb = b.fit(
        data.features, data.labels,
        {.epochs = 5, .batch_size = n, .shuffle = false, .verbose = silent, .sample_weight = w});
    const auto pa = xtnn::test::parameters_of(on_half);
    const auto pb = xtnn::test::parameters_of(weighted);
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CHECK(pb[i] == Approx(pa[i]).epsilon(1e-5).margin(1e-6));
    }
    CHECK(hb["loss"].back() == Approx(ha["loss"].back()).epsilon(1e-5));
}

TEST_CASE("sample weights: class weights for binary targets and regression sample weights",
          "[model][sample_weights]") {
    xtnn::sequential model{xtnn::dense{2, 1}};
    xtnn::trainer bce{model, xtnn::binary_cross_entropy{.from_logits = true}, xtnn::adam()};
    const xtnn::tensor<float, 2> x = {{0, 1}, {1, 0}, {1, 1}, {0, 0}};
    const xtnn::tensor<float, 1> y = {1, 0, 1, 0}; // (batch) targets for one output
    const auto per_class = bce.evaluate(x, y, {.class_weight = {1.0, 4.0}});
    const auto per_sample = bce.evaluate(x, y, {.sample_weight = {4.0, 1.0, 4.0, 1.0}});
    CHECK(per_class.loss() == Approx(per_sample.loss()).epsilon(1e-6));
    REQUIRE_THROWS_MATCHES(
        bce.evaluate(x, xtnn::tensor<float, 1>{1, 0, 2, 0}, {.class_weight = {1.0, 4.0}}),
        xtnn::config_error,
        Catch::Message("evaluate: class_weight needs binary targets in [0, 1]; sample 2 has 2"));

    xtnn::trainer mse{model, xtnn::mean_squared_error{}, xtnn::sgd({.learning_rate = 0.1})};
    const xtnn::tensor<float, 1> t = {3, -1, 2, 0};
    const auto history = mse.fit(
        x, t, {.epochs = 300, .batch_size = 4, .verbose = silent, .sample_weight = {1, 1, 1, 1}});
    CHECK(history["loss"].back() < history["loss"].front());
}

TEST_CASE("sample weights: wrong counts and values are refused before training",
          "[model][sample_weights]") {
    auto model = make_model(4);
    const auto before = xtnn::test::parameters_of(model);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    REQUIRE_THROWS_MATCHES(
        trainer.fit(data.features, data.labels, {.verbose = silent, .class_weight = {1, 2, 3}}),
        xtnn::config_error,
        Catch::Message("fit: class_weight needs 2 weights, one per class; got 3"));
    REQUIRE_THROWS_MATCHES(
        trainer.fit(data.features, data.labels, {.verbose = silent, .sample_weight = {1, 2}}),
        xtnn::shape_error,
        Catch::Message("fit: one sample_weight per sample; expected 120 weights, got 2"));
    REQUIRE_THROWS_MATCHES(
        trainer.fit(data.features, data.labels, {.verbose = silent, .class_weight = {1, -2}}),
        xtnn::config_error, Catch::Message("fit: class_weight[1] must be finite and >= 0; got -2"));
    CHECK(xtnn::test::parameters_of(model) == before);
}
