#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/training.hpp"

namespace {

auto make_callback_model() {
    xtnn::sequential model{xtnn::dense{2, 16}, xtnn::tanh{}, xtnn::dense{16, 2}};
    model.initialize(1);
    return model;
}

const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 100, .seed = 1});

// A fake fit for driving callbacks directly: a scripted val_loss per epoch.
struct scripted_run {
    std::vector<float> weights{1.0f, 2.0f};
    std::vector<float> gradients{0.0f, 0.0f};
    std::vector<xtnn::parameter_view<float>> views{
        {"w", std::span<float>(weights), std::span<float>(gradients), {2}}};
    std::vector<xtnn::log_entry> logs{{"loss", 0}, {"val_loss", 0}};
    xtnn::training_state<float> state;

    scripted_run() {
        state.parameters = std::span<xtnn::parameter_view<float>>(views);
        state.logs = std::span<const xtnn::log_entry>(logs);
        state.learning_rate = 0.1;
    }

    // Runs the callback over the scripted values until it stops; returns the epochs run.
    template <class Callback>
    std::size_t run(Callback& callback, const std::vector<double>& val_losses) {
        xtnn::detail::call_on_train_begin(callback, state);
        std::size_t epochs = 0;
        for (std::size_t e = 0; e < val_losses.size() && !state.stop_training; ++e) {
            state.epoch = e;
            xtnn::detail::call_on_epoch_begin(callback, state);
            weights[0] = static_cast<float>(e); // the "training" of this epoch
            logs[1].value = val_losses[e];
            xtnn::detail::call_on_epoch_end(callback, state);
            ++epochs;
        }
        xtnn::detail::call_on_train_end(callback, state);
        return epochs;
    }
};

} // namespace

TEST_CASE("early_stopping: stops after patience epochs without improvement", "[model][callbacks]") {
    scripted_run run;
    xtnn::early_stopping stop({.patience = 2});
    // improves at epochs 0, 1, 2 (best 0.5 at epoch 2), then 0.6 and 0.55: stop after epoch 4
    CHECK(run.run(stop, {1.0, 0.8, 0.5, 0.6, 0.55, 0.1, 0.1}) == 5);
    CHECK(stop.best() == 0.5);
    CHECK(stop.best_epoch() == 2);
    CHECK(stop.stopped_epoch() == std::optional<std::size_t>(4));
    CHECK(run.weights[0] == 4.0f); // not restored
}

TEST_CASE("early_stopping: min_delta, max mode and restoring the best weights",
          "[model][callbacks]") {
    scripted_run run;
    xtnn::early_stopping stop({.min_delta = 0.1, .patience = 1, .restore_best_weights = true});
    // 0.95 is not better than 1.0 by more than 0.1: stop at epoch 1, restore epoch 0's weights
    CHECK(run.run(stop, {1.0, 0.95, 0.1}) == 2);
    CHECK(run.weights[0] == 0.0f);
    scripted_run up;
    up.logs[1].name = "val_accuracy";
    xtnn::early_stopping stop_up({.monitor = "val_accuracy", .patience = 1});
    CHECK(up.run(stop_up, {0.5, 0.7, 0.6, 0.9}) == 3);
    CHECK(stop_up.best() == 0.7);
}

TEST_CASE("early_stopping: restores the best weights of a real fit", "[model][callbacks]") {
    const auto validation = xtnn::make_two_spirals<float>({.samples_per_class = 50, .seed = 9});
    auto model = make_callback_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::sgd({.learning_rate = 0.5, .momentum = 0.9})};
    xtnn::early_stopping stop({.patience = 3, .restore_best_weights = true});
    const auto history = trainer.fit(
        data.features, data.labels, xtnn::validation_data{validation.features, validation.labels},
        {.epochs = 40, .seed = 2, .verbose = xtnn::verbosity::silent}, stop);
    const auto& val = history["val_loss"];
    const auto best = std::min_element(val.begin(), val.end());
    CHECK(static_cast<std::size_t>(best - val.begin()) == stop.best_epoch());
    // The model holds the best epoch's weights again: it reproduces the best val_loss.
    CHECK(trainer.evaluate(validation.features, validation.labels).loss() == *best);
    if (stop.stopped_epoch()) {
        CHECK(*stop.stopped_epoch() == stop.best_epoch() + 3);
    }
}

TEST_CASE("early_stopping: watching a value that is not logged is an error", "[model][callbacks]") {
    auto model = make_callback_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam()};
    xtnn::early_stopping stop; // val_loss, but no validation
    REQUIRE_THROWS_MATCHES(
        trainer.fit(data.features, data.labels, {.epochs = 2, .verbose = xtnn::verbosity::silent},
                    stop),
        xtnn::config_error,
        Catch::Message("early_stopping: no logged value 'val_loss' (logs: loss); validate to "
                       "watch val_ values"));
}

TEST_CASE("model_checkpoint: every epoch, or only the best", "[model][callbacks]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("xtnn_checkpoint_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    scripted_run run;
    xtnn::model_checkpoint every({.path = dir / "w-{epoch}.npz"});
    run.run(every, {1.0, 2.0, 0.5});
    REQUIRE(every.saved().size() == 3);
    CHECK(every.saved()[2] == dir / "w-03.npz");
    CHECK(std::filesystem::exists(dir / "w-01.npz"));

    scripted_run best_run;
    xtnn::model_checkpoint best({.path = dir / "best.npz", .save_best_only = true});
    best_run.run(best, {1.0, 2.0, 0.5, 0.7});
    CHECK(best.saved().size() == 2); // epochs 0 and 2
    // The file holds epoch 2's weights (w[0] = 2).
    xtnn::dense<float> probe({.in = 1, .out = 2, .bias = false});
    std::vector<float> loaded{0, 0};
    std::vector<float> grads{0, 0};
    std::vector<xtnn::parameter_view<float>> views{
        {"w", std::span<float>(loaded), std::span<float>(grads), {2}}};
    struct holder {
        std::vector<xtnn::parameter_view<float>>* v;
        std::vector<xtnn::parameter_view<float>> parameters() { return *v; }
    } h{&views};
    xtnn::load_weights(h, dir / "best.npz");
    CHECK(loaded == std::vector<float>{2.0f, 2.0f});
    std::filesystem::remove_all(dir);
}

TEST_CASE("learning-rate schedules", "[model][callbacks]") {
    CHECK(xtnn::step_decay(10, 0.5).rate(9, 1.0) == 1.0);
    CHECK(xtnn::step_decay(10, 0.5).rate(10, 1.0) == 0.5);
    CHECK(xtnn::step_decay(10, 0.5).rate(25, 1.0) == 0.25);
    CHECK(xtnn::exponential_decay(0.9).rate(2, 1.0) == Approx(0.81));
    CHECK(xtnn::cosine_decay(10, 0.1).rate(0, 1.0) == Approx(1.0));
    CHECK(xtnn::cosine_decay(10, 0.1).rate(5, 1.0) == Approx(0.55));
    CHECK(xtnn::cosine_decay(10, 0.1).rate(10, 1.0) == Approx(0.1));
    CHECK(xtnn::cosine_decay(10, 0.1).rate(30, 1.0) == Approx(0.1));
    REQUIRE_THROWS_AS(xtnn::step_decay(0), xtnn::config_error);
    REQUIRE_THROWS_AS(xtnn::exponential_decay(1.5), xtnn::config_error);

    // In a fit, the optimizer follows the schedule epoch by epoch.
    auto model = make_callback_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.2})};
    std::vector<double> seen;
    auto record = xtnn::lambda_callback(
        xtnn::hook::batch_end, [&](auto&) { seen.push_back(trainer.optimizer().learning_rate()); });
    trainer.fit(data.features, data.labels,
                {.epochs = 3, .batch_size = 200, .verbose = xtnn::verbosity::silent},
                xtnn::step_decay(1, 0.5), record);
    CHECK(seen == std::vector<double>{0.2, 0.1, 0.05});
}

TEST_CASE("reduce_on_plateau: reduces after patience, then cools down", "[model][callbacks]") {
    scripted_run run;
    xtnn::reduce_on_plateau reduce({.factor = 0.5, .patience = 2, .cooldown = 2});
    std::vector<double> rates;
    auto record = [&](const std::vector<double>& losses) {
        xtnn::detail::call_on_train_begin(reduce, run.state);
        for (std::size_t e = 0; e < losses.size(); ++e) {
            run.logs[1].value = losses[e];
            xtnn::detail::call_on_epoch_end(reduce, run.state);
            rates.push_back(run.state.learning_rate);
        }
    };
    record({1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
    // Keras' rule: epoch 0 improves; 1, 2 do not -> halve after epoch 2; the cooldown covers
    // epochs 3 and 4 (the counter reaches 0 during 4, which then counts); 4, 5 -> halve.
    CHECK(rates == std::vector<double>{0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025});
}

TEST_CASE("fit stops with an error naming the epoch and batch when the loss is NaN",
          "[model][callbacks]") {
    auto model = make_callback_model();
    // A learning rate that makes the weights overflow within the first epoch.
    xtnn::trainer trainer{model, xtnn::mean_squared_error{}, xtnn::sgd({.learning_rate = 1e30})};
    xtnn::tensor<float, 2> x = data.features;
    xtnn::tensor<float, 2> y(xtnn::shape<2>{200, 2});
    y.fill(1.0f);
    const xtnn::fit_options options{
        .epochs = 1, .batch_size = 50, .shuffle = false, .verbose = xtnn::verbosity::silent};
    REQUIRE_THROWS_AS(trainer.fit(x, y, options), xtnn::numeric_error);
    model.initialize(0);
    REQUIRE_THROWS_WITH(trainer.fit(x, y, options),
                        Catch::Matches("fit: the loss became (inf|nan) at epoch 1, batch [1234] "
                                       "\\(lower the learning rate, or check the data for "
                                       "NaN\\)"));
    REQUIRE_THROWS_AS(xtnn::terminate_on_nan::check(INFINITY, 0, 0), xtnn::numeric_error);
}

TEST_CASE("fit refuses NaN or infinity in its data before the first step", "[model][callbacks]") {
    auto model = make_callback_model();
    xtnn::trainer trainer{model, xtnn::mean_squared_error{}, xtnn::sgd({.learning_rate = 0.1})};
    const auto before = xtnn::test::parameters_of(model);
    xtnn::tensor<float, 2> x = data.features;
    xtnn::tensor<float, 2> y(xtnn::shape<2>{200, 2});
    y.fill(0.0f);
    y(150, 1) = std::numeric_limits<float>::quiet_NaN();
    const xtnn::fit_options options{
        .epochs = 1, .batch_size = 50, .shuffle = false, .verbose = xtnn::verbosity::silent};
    REQUIRE_THROWS_MATCHES(trainer.fit(x, y, options), xtnn::numeric_error,
                           Catch::Message("fit: the target of sample 150 is not finite (nan); no "
                                          "step was taken (check_finite = false allows it)"));
    CHECK(xtnn::test::parameters_of(model) == before);
    y(150, 1) = 0.0f;
    x(7, 0) = -std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(trainer.fit(x, y, options),
                        Catch::Equals("fit: the input of sample 7 is not finite (-inf); no step "
                                      "was taken (check_finite = false allows it)"));
    CHECK(xtnn::test::parameters_of(model) == before);
    xtnn::tensor<float, 2> y_validation = y;
    y_validation(3, 0) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(
        trainer.fit(data.features, y, xtnn::validation_data{data.features, y_validation}, options),
        Catch::Equals("fit (validation data): the target of sample 3 is not finite (nan); no step "
                      "was taken (check_finite = false allows it)"));
    CHECK(xtnn::test::parameters_of(model) == before);
}
