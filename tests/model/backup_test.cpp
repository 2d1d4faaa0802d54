// fit's backups: a run interrupted at any point and started again ends with an uninterrupted
// run's bits (weights, buffers, history, files), and a backup that does not fit is refused.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/scratch_directory.hpp"
#include "support/training.hpp"

namespace {

using xtnn::test::state_bytes;

// What the interrupted run throws from a callback: the stand-in for a crash.
struct simulated_crash : std::runtime_error {
    simulated_crash() : std::runtime_error("simulated crash") {}
};

// A callback that "crashes" after batch `batch` of epoch `epoch` when armed: the same callback
// (and so the same callback count) in the interrupted and the resumed run.
struct crash_after {
    std::size_t epoch = 0;
    std::size_t batch = 0;
    bool armed = false;
    template <class State>
    void on_batch_end(State& s) {
        if (armed && s.epoch == epoch && s.batch == batch) {
            throw simulated_crash{};
        }
    }
};

// A history's values, keys and epochs as one comparable vector.
std::vector<double> flatten(const xtnn::history& h) {
    std::vector<double> all;
    for (const auto& key : h.keys()) {
        all.insert(all.end(), h[key].begin(), h[key].end());
    }
    for (const auto e : h.epochs()) {
        all.push_back(static_cast<double>(e));
    }
    return all;
}

auto mlp() {
    xtnn::sequential model{xtnn::dense{2, 16}, xtnn::batch_norm1d{16}, xtnn::relu{},
                           xtnn::dropout{0.3}, xtnn::dense{16, 2}};
    model.initialize(5);
    return model;
}

const auto spirals = xtnn::make_two_spirals<float>({.samples_per_class = 60, .seed = 2});

// Trains a fresh mlp with `make_optimizer()` for 4 epochs, once uninterrupted and once crashed
// after batch `batch` of epoch `epoch` and resumed; checks both end with the same bits.
template <class MakeOptimizer>
void check_resume(MakeOptimizer make_optimizer, std::size_t epoch, std::size_t batch,
                  std::size_t every_batches) {
    xtnn::test::scratch_directory dir;
    const xtnn::fit_options base{.epochs = 4,
                                 .batch_size = 16,
                                 .validation_split = 0.2,
                                 .seed = 9,
                                 .verbose = xtnn::verbosity::silent};

    auto reference = mlp();
    xtnn::trainer reference_trainer{reference, xtnn::softmax_cross_entropy{}, make_optimizer(),
                                    xtnn::accuracy{}};
    xtnn::early_stopping reference_stop({.patience = 10, .restore_best_weights = true});
    xtnn::reduce_on_plateau reference_plateau({.factor = 0.5, .patience = 1});
    crash_after reference_crash;
    auto options = base;
    options.backup = {.path = dir.path / "reference.npz"};
    const auto expected_history =
        reference_trainer.fit(spirals.features, spirals.labels, options, reference_stop,
                              reference_plateau, reference_crash);
    CHECK_FALSE(std::filesystem::exists(dir.path / "reference.npz")); // deleted when done

    options.backup = {.path = dir.path / "backup.npz", .every_batches = every_batches};
    {
        auto model = mlp();
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, make_optimizer(),
                              xtnn::accuracy{}};
        xtnn::early_stopping stop({.patience = 10, .restore_best_weights = true});
        xtnn::reduce_on_plateau plateau({.factor = 0.5, .patience = 1});
        crash_after crash{epoch, batch, true};
        REQUIRE_THROWS_AS(
            trainer.fit(spirals.features, spirals.labels, options, stop, plateau, crash),
            simulated_crash);
        REQUIRE(std::filesystem::exists(dir.path / "backup.npz"));
    }
    // A new process: a fresh model (initialized the same), optimizer and callbacks.
    auto model = mlp();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, make_optimizer(), xtnn::accuracy{}};
    xtnn::early_stopping stop({.patience = 10, .restore_best_weights = true});
    xtnn::reduce_on_plateau plateau({.factor = 0.5, .patience = 1});
    crash_after crash;
    const auto history =
        trainer.fit(spirals.features, spirals.labels, options, stop, plateau, crash);

    CHECK(state_bytes(model) == state_bytes(reference));
    CHECK(flatten(history) == flatten(expected_history));
    CHECK(history.keys() == expected_history.keys());
    CHECK(trainer.optimizer().learning_rate() == reference_trainer.optimizer().learning_rate());
    CHECK(trainer.optimizer().iterations() == reference_trainer.optimizer().iterations());
    CHECK(stop.best() == reference_stop.best());
    CHECK(stop.best_epoch() == reference_stop.best_epoch());
    CHECK_FALSE(std::filesystem::exists(dir.path / "backup.npz"));
}

} // namespace

TEST_CASE("fit resumes from a backup to an uninterrupted run's bits", "[model][backup]") {
    SECTION("adam, from the end of an epoch") {
        check_resume([] { return xtnn::adam<float>({.learning_rate = 0.01}); }, 1, 5, 0);
    }
    SECTION("adam, from the middle of an epoch") {
        check_resume([] { return xtnn::adam<float>({.learning_rate = 0.01}); }, 2, 3, 2);
    }
    SECTION("sgd with Nesterov momentum, from the middle of the first epoch") {
        check_resume(
            [] {
                return xtnn::sgd<float>({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
            },
            0, 4, 3);
    }
    SECTION("rmsprop, crashed in the last epoch") {
        check_resume([] { return xtnn::rmsprop<float>({.learning_rate = 0.01}); }, 3, 1, 1);
    }
}

TEST_CASE("fit resumes augmentation, a schedule and save_best_only to the same bits",
          "[model][backup]") {
    xtnn::test::scratch_directory dir;
    xtnn::random_engine rng(4);
    xtnn::tensor<float, 4> x(xtnn::shape<4>{48, 1, 8, 8});
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    xtnn::tensor<std::int64_t, 1> y(xtnn::shape<1>{48});
    for (std::size_t i = 0; i < y.size(); ++i) {
        y(i) = static_cast<std::int64_t>(i % 3);
    }
    const auto make = [] {
        xtnn::sequential model{xtnn::random_affine<float>({.translation = 0.1, .rotation = 0.05}),
                               xtnn::conv2d{1, 4, 3}, xtnn::relu{}, xtnn::flatten{},
                               xtnn::dense{4 * 6 * 6, 3}};
        model.initialize(3);
        return model;
    };
    const auto run = [&](std::string_view name, const crash_after& crash_at, xtnn::history* out) {
        auto model = make();
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                              xtnn::adamw<float>({.learning_rate = 0.01})};
        xtnn::cosine_decay schedule(5, 1e-4);
        xtnn::model_checkpoint best({.path = dir.path / (std::string(name) + "_best.npz"),
                                     .save_best_only = true,
                                     .monitor = "loss"});
        auto crash = crash_at;
        const xtnn::fit_options options{
            .epochs = 5,
            .batch_size = 8,
            .seed = 1,
            .verbose = xtnn::verbosity::silent,
            .backup = {.path = dir.path / (std::string(name) + "_backup.npz"), .every_batches = 4}};
        *out = trainer.fit(x, y, options, schedule, best, crash);
        return state_bytes(model);
    };
    xtnn::history expected, resumed;
    const auto reference = run("reference", {}, &expected);
    REQUIRE_THROWS_AS(run("resumed", {2, 4, true}, &resumed), simulated_crash);
    const auto after = run("resumed", {}, &resumed);
    CHECK(after == reference);
    CHECK(flatten(resumed) == flatten(expected));
    // save_best_only remembered its best across the crash: the best files hold the same bits
    // (the zip's own times differ).
    auto best_a = make();
    auto best_b = make();
    xtnn::load_weights(best_a, dir.path / "reference_best.npz");
    xtnn::load_weights(best_b, dir.path / "resumed_best.npz");
    CHECK(state_bytes(best_a) == state_bytes(best_b));
    auto untrained = make();
    CHECK(state_bytes(best_a) != state_bytes(untrained)); // the file holds trained weights
}

TEST_CASE("fit refuses a backup that does not fit, naming what differs", "[model][backup]") {
    xtnn::test::scratch_directory dir;
    const auto path = dir.path / "backup.npz";
    const xtnn::fit_options options{.epochs = 2,
                                    .batch_size = 16,
                                    .seed = 3,
                                    .verbose = xtnn::verbosity::silent,
                                    .backup = {.path = path, .keep = true}};
    auto model = mlp();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
    trainer.fit(spirals.features, spirals.labels, options);
    REQUIRE(std::filesystem::exists(path)); // kept

    SECTION("another batch size") {
        auto other = options;
        other.batch_size = 8;
        auto fresh = mlp();
        const auto before = state_bytes(fresh);
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_WITH(
            t.fit(spirals.features, spirals.labels, other),
            Catch::Contains(
                "does not match this fit in batch_size (the backup's 16, this fit's 8)") &&
                Catch::Contains("delete the backup to train afresh"));
        CHECK(state_bytes(fresh) == before); // refused before the model was touched
    }
    SECTION("other data") {
        auto y = spirals.labels;
        y(0) = 1 - y(0);
        auto fresh = mlp();
        const auto before = state_bytes(fresh);
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_AS(t.fit(spirals.features, y, options), xtnn::config_error);
        CHECK_THROWS_WITH(t.fit(spirals.features, y, options),
                          Catch::Contains("does not match this fit in the training targets (y) "
                                          "(their contents differ)"));
        CHECK(state_bytes(fresh) == before); // refused before the model was touched
    }
    SECTION("another optimizer") {
        auto fresh = mlp();
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::sgd<float>{}};
        CHECK_THROWS_WITH(t.fit(spirals.features, spirals.labels, options),
                          Catch::Contains("optimizer 'adam''s; expected 'sgd''s"));
    }
    SECTION("another model") {
        xtnn::sequential other{xtnn::dense{2, 8}, xtnn::relu{}, xtnn::dense{8, 2}};
        xtnn::trainer t{other, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_AS(t.fit(spirals.features, spirals.labels, options), xtnn::config_error);
        CHECK_THROWS_WITH(t.fit(spirals.features, spirals.labels, options),
                          Catch::Contains("does not match this fit in the model (the backup's "
                                          "'layer 0: dense(in=2, out=16") &&
                              Catch::Contains("this fit's 'layer 0: dense(in=2, out=8"));
    }
    SECTION("another model with the same parameters") {
        // Every name and shape as the backup's: only the architecture tells them apart.
        xtnn::sequential other{xtnn::dense{2, 16}, xtnn::batch_norm1d{16}, xtnn::tanh{},
                               xtnn::dropout{0.3}, xtnn::dense{16, 2}};
        other.initialize(5);
        const auto before = state_bytes(other);
        xtnn::trainer t{other, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_WITH(t.fit(spirals.features, spirals.labels, options),
                          Catch::Contains("in the model (the backup's 'layer 2: relu', this "
                                          "fit's 'layer 2: tanh')"));
        CHECK(state_bytes(other) == before);
    }
    SECTION("more callbacks") {
        auto fresh = mlp();
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_WITH(t.fit(spirals.features, spirals.labels, options,
                                xtnn::early_stopping({.monitor = "loss"})),
                          Catch::Contains("in callbacks (the backup's 0, this fit's 1)"));
    }
    SECTION("a weight file that is not a backup") {
        auto fresh = mlp();
        xtnn::save_weights(fresh, path);
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_WITH(t.fit(spirals.features, spirals.labels, options),
                          Catch::Contains("is not one of fit's backups"));
    }
    SECTION("a damaged backup") {
        const auto size = std::filesystem::file_size(path);
        std::filesystem::resize_file(path, size / 2);
        auto fresh = mlp();
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        CHECK_THROWS_AS(t.fit(spirals.features, spirals.labels, options), xtnn::io_error);
    }
    SECTION("more epochs: training goes on from the backup") {
        auto more = options;
        more.epochs = 3;
        auto fresh = mlp();
        xtnn::trainer t{fresh, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
        const auto history = t.fit(spirals.features, spirals.labels, more);
        CHECK(history.epochs() == std::vector<std::size_t>{0, 1, 2});
        CHECK(t.optimizer().iterations() == 3 * 8); // 120 samples in batches of 16
    }
}

TEST_CASE("fit's backups every few batches need metrics that save their state", "[model][backup]") {
    struct plain_metric {
        std::string name() const { return "plain"; }
        void reset() {}
        void update(const xtnn::tensor<float, 2>&, const xtnn::tensor<std::int64_t, 1>&) {}
        double result() const { return 0; }
    };
    xtnn::test::scratch_directory dir;
    auto model = mlp();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{},
                          plain_metric{}};
    CHECK_THROWS_WITH(
        trainer.fit(spirals.features, spirals.labels,
                    {.verbose = xtnn::verbosity::silent,
                     .backup = {.path = dir.path / "b.npz", .every_batches = 2}}),
        Catch::Contains("backup.every_batches needs every metric to save its state, but 'plain'"));
    // at the ends of epochs a metric needs no state
    CHECK_NOTHROW(
        trainer.fit(spirals.features, spirals.labels,
                    {.verbose = xtnn::verbosity::silent, .backup = {.path = dir.path / "b.npz"}}));
}

TEST_CASE("saved_state keeps values bit for bit and refuses what does not fit", "[model][backup]") {
    xtnn::saved_state s;
    s.put("nan", std::numeric_limits<double>::quiet_NaN());
    s.put("values", std::vector<float>{1.5f, -0.0f});
    s.put("text", std::string("a\nb"));
    xtnn::saved_state inner;
    inner.put("count", std::size_t{7});
    s.put("inner", inner);
    double nan = 0;
    s.get("nan", nan);
    CHECK(std::isnan(nan));
    std::vector<float> values;
    s.get("values", values);
    CHECK(values.size() == 2);
    CHECK(std::signbit(values[1]));
    std::string text;
    s.get("text", text);
    CHECK(text == "a\nb");
    std::size_t count = 0;
    s.part("inner").get("count", count);
    CHECK(count == 7);
    std::uint32_t small = 0;
    CHECK_THROWS_WITH(s.get("inner/count", small),
                      "saved state: 'inner/count' holds 8 bytes; expected 4");
    CHECK_THROWS_WITH(s.get("missing", small), "saved state: no value 'missing'");
    std::vector<double> doubles;
    CHECK_THROWS_AS(s.get("text", doubles), xtnn::io_error);
}

TEST_CASE("random_engine continues from its saved state", "[core][backup]") {
    xtnn::random_engine a(11);
    (void)a.normal(); // leaves a spare normal value
    const auto saved = a.state();
    xtnn::random_engine b;
    REQUIRE(b.restore(saved));
    for (int i = 0; i < 5; ++i) {
        CHECK(a.normal() == b.normal());
        CHECK(a() == b());
    }
    xtnn::random_engine c(3);
    const auto before = c.state();
    CHECK_FALSE(c.restore("1 2 3"));
    CHECK_FALSE(c.restore(saved + " 9"));
    CHECK(c.state() == before);
}
