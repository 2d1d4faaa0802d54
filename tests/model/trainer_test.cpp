#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include <catch2/catch.hpp>

#include <xtensor/xview.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/training.hpp"

namespace {

auto make_model(std::uint64_t seed) {
    xtnn::sequential model{xtnn::dense{2, 32}, xtnn::relu{}, xtnn::dense{32, 32}, xtnn::relu{},
                           xtnn::dense{32, 2}};
    model.initialize(seed);
    return model;
}

template <class Model>
bool trainer_predict_matches(Model& model, const xtnn::tensor<float, 1>& sample,
                             const xtnn::tensor<float, 1>& expected) {
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    const xtnn::tensor<float, 1> got = trainer.predict(sample);
    return got == expected;
}

const auto spirals = xtnn::make_two_spirals<float>({.samples_per_class = 200, .seed = 1});
const auto held_out = xtnn::make_two_spirals<float>({.samples_per_class = 100, .seed = 2});

} // namespace

TEST_CASE("trainer: fit learns, and its history matches an independent evaluate",
          "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 0.01}),
                          xtnn::accuracy{}};
    const auto history = trainer.fit(
        spirals.features, spirals.labels, xtnn::validation_data{held_out.features, held_out.labels},
        {.epochs = 60, .batch_size = 16, .seed = 3, .verbose = xtnn::verbosity::silent});
    CHECK(history.keys() ==
          std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
    REQUIRE(history.size() == 60);
    CHECK(history["loss"].back() < history["loss"].front() / 5);
    CHECK(history["val_accuracy"].back() >= 0.95);
    const auto report = trainer.evaluate(held_out.features, held_out.labels);
    CHECK(report.loss() == history["val_loss"].back());
    CHECK(report["accuracy"] == history["val_accuracy"].back());
    REQUIRE_THROWS_AS(report["nope"], std::out_of_range);
    REQUIRE_THROWS_WITH(history["nope"], Catch::Contains("keys: loss, accuracy, val_loss"));
}

TEST_CASE("trainer: validation_split holds out a seeded random subset", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    // The data is sorted by class: a last-10% split would hold out class 1 only, and the
    // validation accuracy of an untrained model would be 0 or 1.
    const auto history = trainer.fit(spirals.features, spirals.labels,
                                     {.epochs = 1,
                                      .batch_size = 400,
                                      .shuffle = false,
                                      .validation_split = 0.25,
                                      .verbose = xtnn::verbosity::silent});
    const double val_accuracy = history["val_accuracy"][0];
    CHECK(val_accuracy > 0.2);
    CHECK(val_accuracy < 0.8);
}

TEST_CASE("trainer: the same seed gives bit-identical weights", "[model][trainer]") {
    auto run = [](std::uint64_t seed) {
        auto model = make_model(4);
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
        trainer.fit(spirals.features, spirals.labels,
                    {.epochs = 3,
                     .batch_size = 32,
                     .validation_split = 0.1,
                     .seed = seed,
                     .verbose = xtnn::verbosity::silent});
        return xtnn::test::parameters_of(model);
    };
    const auto a = run(5), b = run(5), c = run(6);
    REQUIRE(a.size() == b.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    CHECK(a != c);
}

TEST_CASE("trainer: callbacks see every batch and can stop or change the rate",
          "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    std::size_t batches = 0, epochs = 0;
    auto count = xtnn::lambda_callback(xtnn::hook::batch_end, [&](auto& s) {
        ++batches;
        CHECK(std::isfinite(s.log("loss")));
        CHECK(s.parameters.size() == 6);
    });
    auto per_epoch = xtnn::lambda_callback(xtnn::hook::epoch_end, [&](auto& s) {
        ++epochs;
        s.learning_rate = 0.01;
        if (s.epoch == 2) {
            s.stop_training = true;
        }
    });
    const auto history = trainer.fit(
        spirals.features, spirals.labels,
        {.epochs = 10, .batch_size = 100, .verbose = xtnn::verbosity::silent}, count, per_epoch);
    CHECK(epochs == 3);
    CHECK(batches == 3 * 4);
    CHECK(history.size() == 3);
    CHECK(trainer.optimizer().learning_rate() == 0.01);
}

TEST_CASE("trainer: initial_epoch resumes the epoch count", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    const auto history =
        trainer.fit(spirals.features, spirals.labels,
                    {.epochs = 4, .initial_epoch = 2, .verbose = xtnn::verbosity::silent});
    CHECK(history.epochs() == std::vector<std::size_t>{2, 3});
    std::ostringstream csv;
    history.write_csv(csv);
    CHECK_THAT(csv.str(), Catch::StartsWith("epoch,loss\n3,"));
}

TEST_CASE("trainer: the progress display, as lines and as a bar", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    std::ostringstream lines, bar;
    trainer.fit(spirals.features, spirals.labels,
                {.epochs = 2,
                 .batch_size = 100,
                 .validation_split = 0.2,
                 .verbose = xtnn::verbosity::silent},
                xtnn::progress_bar(lines, xtnn::progress_style::lines),
                xtnn::progress_bar(bar, xtnn::progress_style::bar));
    CHECK_THAT(lines.str(), Catch::Matches("Epoch 1/2 - 4/4 - [0-9]+s [0-9]+(ms|us)/step - loss: "
                                           "[0-9.]+ - accuracy: [0-9.]+ - val_loss: [0-9.]+ - "
                                           "val_accuracy: [0-9.]+\nEpoch 2/2 .*\n"));
    CHECK_THAT(bar.str(), Catch::StartsWith("Epoch 1/2\n\r4/4 [==============================]"));
    CHECK_THAT(bar.str(), Catch::Contains("Epoch 2/2\n"));
}

TEST_CASE("predict: batched outputs, classes and probabilities", "[model][trainer]") {
    auto model = make_model(2);
    const auto all = model.forward(held_out.features); // one batch of 200
    const xtnn::tensor<float, 2> expected = all;
    const auto batched = xtnn::predict(model, held_out.features, 7); // 200 = 28 * 7 + 4
    CHECK(xtnn::test::max_abs_difference(batched, expected) < 1e-6);
    const auto classes = xtnn::predict_classes(model, held_out.features, 64);
    const auto probabilities = xtnn::predict_probabilities(model, held_out.features);
    for (std::size_t r = 0; r < 200; ++r) {
        REQUIRE(classes(r) == (expected(r, 1) > expected(r, 0) ? 1 : 0));
        REQUIRE(probabilities(r, 0) + probabilities(r, 1) == Approx(1.0f));
        REQUIRE((probabilities(r, 1) > probabilities(r, 0)) == (classes(r) == 1));
    }
}

TEST_CASE("trainer: bad data and options", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    const xtnn::tensor<std::int64_t, 1> few = {0, 1, 0};
    REQUIRE_THROWS_MATCHES(trainer.fit(spirals.features, few), xtnn::shape_error,
                           Catch::Message("fit: inputs and targets differ in samples; expected "
                                          "400 targets, got (3,)"));
    REQUIRE_THROWS_WITH(trainer.fit(spirals.features, spirals.labels, {.batch_size = 0}),
                        Catch::Contains("batch_size must be > 0"));
    REQUIRE_THROWS_WITH(trainer.fit(spirals.features, spirals.labels, {.validation_split = 1.0}),
                        Catch::Contains("validation_split must be in [0, 1), got 1"));
    REQUIRE_THROWS_WITH(trainer.fit(spirals.features, spirals.labels, {.validation_split = 0.0001}),
                        Catch::Contains("leaves no training or no validation sample"));
    REQUIRE_THROWS_WITH(trainer.evaluate(spirals.features, few),
                        Catch::Contains("evaluate: inputs and targets differ"));
    xtnn::tensor<float, 2> three_features(xtnn::shape<2>{5, 3});
    xtnn::tensor<std::int64_t, 1> five = {0, 1, 0, 1, 0};
    REQUIRE_THROWS_WITH(trainer.fit(three_features, five, {.verbose = xtnn::verbosity::silent}),
                        Catch::Contains("layer 0 (dense) rejects its input (5, 3)"));
}

TEST_CASE("predict: one sample without the batch axis gives one output", "[model][trainer]") {
    auto model = make_model(2);
    const auto all = xtnn::predict(model, held_out.features);
    const auto classes = xtnn::predict_classes(model, held_out.features);
    const auto probabilities = xtnn::predict_probabilities(model, held_out.features);
    for (const std::size_t r : {std::size_t{0}, std::size_t{57}, std::size_t{199}}) {
        const xtnn::tensor<float, 1> sample = xt::view(held_out.features, r, xt::all());
        const xtnn::tensor<float, 1> one = xtnn::predict(model, sample);
        REQUIRE(one.shape() == std::array<std::size_t, 1>{2});
        // A batch of one goes to BLAS gemv rather than gemm: equal but for the last bits.
        CHECK(one(0) == Approx(all(r, 0)).margin(1e-6));
        CHECK(one(1) == Approx(all(r, 1)).margin(1e-6));
        CHECK(xtnn::predict_classes(model, sample) == classes(r));
        const xtnn::tensor<float, 1> p = xtnn::predict_probabilities(model, sample);
        CHECK(p(1) == Approx(probabilities(r, 1)).margin(1e-6));
        CHECK(trainer_predict_matches(model, sample, one));
    }
    const xtnn::tensor<float, 1> wrong(xtnn::shape<1>{3});
    REQUIRE_THROWS_WITH(xtnn::predict(model, wrong),
                        Catch::Contains("layer 0 (dense) rejects its input (1, 3)"));
}

TEST_CASE("predict_classes and evaluate refuse non-finite outputs unless allowed",
          "[model][trainer]") {
    auto model = make_model(2);
    xtnn::tensor<float, 2> x = held_out.features;
    x(123, 1) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(xtnn::predict_classes(model, x), xtnn::numeric_error,
                           Catch::Message("predict_classes: the model's output for sample 123 is "
                                          "not finite (NaN or infinity in the input or the "
                                          "weights); check_finite = false allows it"));
    CHECK(xtnn::predict_classes(model, x, 256, false).size() == 200);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    REQUIRE_THROWS_AS(trainer.evaluate(x, held_out.labels, {.batch_size = 50}),
                      xtnn::numeric_error);
    REQUIRE_THROWS_WITH(trainer.evaluate(x, held_out.labels, {.batch_size = 50}),
                        Catch::Contains("evaluate: the model's output for sample 123 is not "
                                        "finite"));
    const auto allowed =
        trainer.evaluate(x, held_out.labels, {.batch_size = 50, .check_finite = false});
    CHECK(std::isnan(allowed.loss()));
    x(123, 1) = std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_AS(trainer.evaluate(x, held_out.labels), xtnn::numeric_error);
    // Validation data with infinity stops fit before the first step, naming the sample.
    REQUIRE_THROWS_WITH(
        trainer.fit(held_out.features, held_out.labels, xtnn::validation_data{x, held_out.labels},
                    {.verbose = xtnn::verbosity::silent}),
        Catch::Contains("fit (validation data): the input of sample 123 is not finite (inf)"));
}

TEST_CASE("trainer: labels are checked by sample index before any step", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
    const auto before = xtnn::test::parameters_of(model);
    xtnn::tensor<std::int64_t, 1> labels = spirals.labels;
    labels(345) = 2; // two outputs: labels are 0 or 1
    REQUIRE_THROWS_MATCHES(trainer.fit(spirals.features, labels,
                                       {.batch_size = 16, .verbose = xtnn::verbosity::silent}),
                           std::out_of_range,
                           Catch::Message("fit: the class label of sample 345 is out of range; "
                                          "expected 0..1, got 2"));
    CHECK(xtnn::test::parameters_of(model) ==
          before); // found before the first batch changed anything
    labels(345) = -1;
    REQUIRE_THROWS_WITH(trainer.evaluate(spirals.features, labels),
                        Catch::Equals("evaluate: the class label of sample 345 is out of range; "
                                      "expected 0..1, got -1"));
    REQUIRE_THROWS_WITH(trainer.fit(held_out.features, held_out.labels,
                                    xtnn::validation_data{spirals.features, labels},
                                    {.verbose = xtnn::verbosity::silent}),
                        Catch::Contains("fit (validation data): the class label of sample 345"));
    CHECK(xtnn::test::parameters_of(model) == before);
}

TEST_CASE("trainer: empty data and huge batch sizes", "[model][trainer]") {
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    const xtnn::tensor<float, 2> none(xtnn::shape<2>{0, 2});
    const xtnn::tensor<std::int64_t, 1> no_labels(xtnn::shape<1>{0});
    REQUIRE_THROWS_MATCHES(trainer.evaluate(none, no_labels), xtnn::shape_error,
                           Catch::Message("evaluate: no samples to evaluate; got x (0, 2)"));
    REQUIRE_THROWS_WITH(trainer.fit(spirals.features, spirals.labels,
                                    xtnn::validation_data{none, no_labels},
                                    {.verbose = xtnn::verbosity::silent}),
                        Catch::Contains("the validation data has no samples"));
    // SIZE_MAX once overflowed the batch count (0 batches: nothing trained, loss 0).
    const auto before = xtnn::test::parameters_of(model);
    const auto history = trainer.fit(spirals.features, spirals.labels,
                                     {.batch_size = SIZE_MAX, .verbose = xtnn::verbosity::silent});
    CHECK(history["loss"].front() > 0.1);
    CHECK(xtnn::test::parameters_of(model) != before);
    xtnn::sequential same = make_model(1);
    xtnn::trainer whole{same, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    whole.fit(spirals.features, spirals.labels,
              {.batch_size = 400, .verbose = xtnn::verbosity::silent}); // one batch of all
    CHECK(xtnn::test::parameters_of(model) == xtnn::test::parameters_of(same));
}

namespace {

// A user's own metric: the mean probability the model gives the true class.
class mean_true_probability {
  public:
    std::string name() const { return "true_probability"; }
    void reset() { sum_ = 0, count_ = 0; }
    template <class T, class Labels>
    void update(const xtnn::tensor<T, 2>& logits, const Labels& labels) {
        for (std::size_t r = 0; r < logits.shape()[0]; ++r) {
            const double a = logits(r, 0), b = logits(r, 1);
            const double p1 = 1.0 / (1.0 + std::exp(a - b));
            sum_ += labels(r) == 1 ? p1 : 1.0 - p1;
            ++count_;
        }
    }
    double result() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  private:
    double sum_ = 0;
    std::size_t count_ = 0;
};

} // namespace

TEST_CASE("trainer: a user-defined metric is logged like the built-in ones", "[model][trainer]") {
    STATIC_REQUIRE(
        xtnn::metric<mean_true_probability, xtnn::tensor<float, 2>, xtnn::tensor<std::int64_t, 1>>);
    auto model = make_model(1);
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 0.01}),
                          mean_true_probability{}, xtnn::top_k_accuracy(1)};
    const auto history = trainer.fit(spirals.features, spirals.labels,
                                     xtnn::validation_data{held_out.features, held_out.labels},
                                     {.epochs = 20, .verbose = xtnn::verbosity::silent});
    CHECK(history.keys() == std::vector<std::string>{"loss", "true_probability", "top_1_accuracy",
                                                     "val_loss", "val_true_probability",
                                                     "val_top_1_accuracy"});
    CHECK(history["val_true_probability"].back() > history["val_true_probability"].front());
    CHECK(history["val_true_probability"].back() > 0.8);
}

TEST_CASE("trainer: resuming at initial_epoch replays an uninterrupted run", "[model][trainer]") {
    auto straight = make_model(3);
    xtnn::trainer a{straight, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    a.fit(spirals.features, spirals.labels,
          {.epochs = 4, .seed = 8, .verbose = xtnn::verbosity::silent});

    auto resumed = make_model(3);
    xtnn::trainer b{resumed, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    b.fit(spirals.features, spirals.labels,
          {.epochs = 2, .seed = 8, .verbose = xtnn::verbosity::silent});
    b.fit(spirals.features, spirals.labels,
          {.epochs = 4, .initial_epoch = 2, .seed = 8, .verbose = xtnn::verbosity::silent});
    const auto wa = xtnn::test::parameters_of(straight), wb = xtnn::test::parameters_of(resumed);
    CHECK(std::memcmp(wa.data(), wb.data(), wa.size() * sizeof(float)) == 0);
}

namespace {

// Passes its input on and records the largest batch a training forward gave it.
struct batch_probe : xtnn::layer_base<batch_probe, float, 2, 2> {
    static constexpr std::string_view name = "batch_probe";
    static constexpr bool trains_by_samples = true;
    std::size_t largest = 0;
    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 2>& x, xtnn::tensor<float, 2>& y, xtnn::mode m) {
        if (m == xtnn::mode::training) {
            largest = std::max(largest, x.shape()[0]);
        }
        std::copy(x.begin(), x.end(), y.begin());
    }
    void compute_backward(const xtnn::tensor<float, 2>&, const xtnn::tensor<float, 2>&,
                          const xtnn::tensor<float, 2>& dy, xtnn::tensor<float, 2>* dx) const {
        if (dx != nullptr) {
            std::copy(dy.begin(), dy.end(), dx->begin());
        }
    }
};

} // namespace

TEST_CASE("trainer: fit runs a step by groups of samples, as the whole batch would",
          "[model][trainer]") {
    xtnn::set_num_threads(1);
    const auto x = xtnn::test::random_tensor<float, 4>({96, 1, 10, 10}, 7);
    xtnn::tensor<std::int32_t, 1> labels(xtnn::shape<1>{96});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        labels(i) = static_cast<std::int32_t>(i * 7 % 3);
    }
    struct run_result {
        xtnn::history history;
        std::vector<float> parameters;
        std::size_t largest_batch;
    };
    const auto run = [&](std::size_t group, bool weighted) {
        // 10 x 10 -> 4 x 8 x 8 -> 4 x 4 x 4 -> 6 x 2 x 2: 24 features, dropped in groups of 4
        // samples as in whole batches (an even number of elements a group).
        xtnn::sequential model{xtnn::conv2d<float>{1, 4, 3},
                               xtnn::relu{},
                               xtnn::max_pool2d{},
                               xtnn::conv2d<float>{4, 6, 3},
                               xtnn::relu{},
                               xtnn::flatten{},
                               batch_probe{},
                               xtnn::dropout{0.25},
                               xtnn::dense<float>{24, 3}};
        model.initialize(5);
        model.set_training_group(group);
        // SGD: its step is linear in the gradient, so rounding stays rounding.
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                              xtnn::sgd({.learning_rate = 0.1, .momentum = 0.9}), xtnn::accuracy{}};
        xtnn::fit_options options{
            .epochs = 3, .batch_size = 32, .seed = 3, .verbose = xtnn::verbosity::silent};
        if (weighted) {
            options.class_weight = {1.0, 2.0, 0.5};
        }
        const auto history = trainer.fit(x, labels, options);
        CHECK(model.training_group({32, 1, 10, 10}) == (group == SIZE_MAX ? 0 : group));
        return run_result{history, xtnn::test::parameters_of(model), model.layer<6>().largest};
    };
    for (const bool weighted : {false, true}) {
        INFO("class weights: " << weighted);
        const auto whole = run(SIZE_MAX, weighted);
        const auto grouped = run(4, weighted);
        CHECK(whole.largest_batch == 32);
        CHECK(grouped.largest_batch == 4);
        REQUIRE(whole.parameters.size() == grouped.parameters.size());
        float worst = 0;
        for (std::size_t i = 0; i < whole.parameters.size(); ++i) {
            worst = std::max(worst, std::abs(whole.parameters[i] - grouped.parameters[i]) /
                                        (1 + std::abs(whole.parameters[i])));
        }
        CHECK(worst < 1e-5F);
        for (const auto* key : {"loss", "accuracy"}) {
            for (std::size_t e = 0; e < 3; ++e) {
                CHECK(grouped.history[key][e] == Approx(whole.history[key][e]).epsilon(1e-5));
            }
        }
        CHECK(whole.history["loss"].back() < whole.history["loss"].front());
    }
    xtnn::set_num_threads(0);
}
