// Buffers (state a layer keeps but does not train) through the framework: names, summary,
// fit, weight files, checkpoints and early stopping. feature_tracker stands in for batch norm.
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/feature_tracker.hpp"
#include "support/helpers.hpp"
#include "support/python.hpp"
#include "support/scratch_directory.hpp"

namespace {

using tracker = xtnn::test::feature_tracker<float>;

auto make_normed_model() {
    return xtnn::sequential{xtnn::dense{3, 4}, tracker{4}, xtnn::relu{}, xtnn::dense{4, 2}};
}

// 64 samples, 3 features, 2 classes.
struct dataset {
    xtnn::tensor<float, 2> x = xtnn::test::random_tensor<float, 2>({64, 3}, 5);
    xtnn::tensor<std::int64_t, 1> y = xtnn::tensor<std::int64_t, 1>(xtnn::shape<1>{64});
    dataset() {
        for (std::size_t i = 0; i < 64; ++i) {
            y(i) = x(i, 0) > 0 ? 1 : 0;
        }
    }
};

template <class Model>
const tracker& tracker_of(Model& model) {
    return model.template layer<1>();
}

} // namespace

TEST_CASE("buffers: named like parameters, nested too, never among the parameters",
          "[model][buffers]") {
    auto model = make_normed_model();
    const auto buffers = model.buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].name == "1.running_mean");
    CHECK(buffers[0].shape == std::vector<std::size_t>{4});
    CHECK(std::holds_alternative<std::span<float>>(buffers[0].value));
    CHECK(buffers[1].name == "1.num_batches_tracked");
    CHECK(buffers[1].shape.empty()); // a 0-dimensional tensor, as PyTorch's
    CHECK(std::holds_alternative<std::span<std::int64_t>>(buffers[1].value));
    for (const auto& p : model.parameters()) {
        CHECK(p.name.find("running") == std::string::npos);
    }
    xtnn::sequential outer{xtnn::dense{3, 3}, xtnn::relu{}, make_normed_model()};
    const auto nested = outer.buffers();
    REQUIRE(nested.size() == 2);
    CHECK(nested[0].name == "2.1.running_mean");
    CHECK(nested[1].name == "2.1.num_batches_tracked");
    xtnn::sequential none{xtnn::dense{3, 4}};
    CHECK(none.buffers().empty());
}

TEST_CASE("buffers: the summary counts statistics apart as non-trainable", "[model][buffers]") {
    auto model = make_normed_model();
    const std::string s = model.summary({8, 3});
    CHECK_THAT(s, Catch::Contains("1   feature_tracker (batch, 4)              4\n"));
    CHECK_THAT(s, Catch::Contains("Total params: 30\nTrainable params: 26\n"
                                  "Non-trainable params: 4\n")); // the int64 counter is not one
    xtnn::sequential plain{xtnn::dense{3, 4}};
    CHECK_THAT(plain.summary({1, 3}), Catch::EndsWith("Total params: 16\nTrainable params: 16\n"
                                                      "Non-trainable params: 0\n"));
}

TEST_CASE("buffers: fit updates them in training batches only, and no optimizer touches them",
          "[model][buffers]") {
    const dataset data;
    auto model = make_normed_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 0.1})};
    // 64 samples, 16 held out, batches of 16: 3 training batches per epoch; validation, evaluate
    // and predict run in inference mode and leave the statistics alone.
    trainer.fit(data.x, data.y,
                {.epochs = 2,
                 .batch_size = 16,
                 .validation_split = 0.25,
                 .verbose = xtnn::verbosity::silent});
    CHECK(tracker_of(model).batches() == 6);
    const auto mean = tracker_of(model).running_mean();
    trainer.evaluate(data.x, data.y);
    xtnn::predict(model, data.x);
    CHECK(tracker_of(model).batches() == 6);
    CHECK(xtnn::test::equal(tracker_of(model).running_mean(), mean));
    CHECK(xt::amax(xt::abs(mean))() > 0.0f);
}

TEST_CASE("buffers: save_weights and load_weights carry them with their element types",
          "[model][buffers][io]") {
    xtnn::test::scratch_directory dir;
    const dataset data;
    auto trained = make_normed_model();
    xtnn::trainer trainer{trained, xtnn::softmax_cross_entropy{}, xtnn::sgd()};
    trainer.fit(data.x, data.y,
                {.epochs = 1, .batch_size = 32, .verbose = xtnn::verbosity::silent});
    REQUIRE(tracker_of(trained).batches() == 2);
    xtnn::save_weights(trained, dir.path / "w.npz");

    auto fresh = make_normed_model();
    xtnn::load_weights(fresh, dir.path / "w.npz");
    CHECK(tracker_of(fresh).batches() == 2);
    CHECK(xtnn::test::equal(tracker_of(fresh).running_mean(), tracker_of(trained).running_mean()));

    // A file without the buffers (parameters only) is refused by a strict load, naming the
    // buffer, and leaves the model unchanged; a non-strict load keeps the buffers.
    auto params = trained.parameters();
    xtnn::save_parameters(std::span<const xtnn::parameter_view<float>>(params),
                          dir.path / "parameters.npz");
    auto other = make_normed_model();
    REQUIRE_THROWS_WITH(xtnn::load_weights(other, dir.path / "parameters.npz"),
                        Catch::EndsWith("missing key '1.running_mean' (expected shape (4,))"));
    CHECK(tracker_of(other).batches() == 0);
    xtnn::load_weights(other, dir.path / "parameters.npz", {.strict = false});
    CHECK(tracker_of(other).batches() == 0);
    CHECK(xtnn::test::equal(other.layer<0>().weight(), trained.layer<0>().weight()));

    // A model without the buffers (same parameter names) is another architecture; compared by
    // names alone, it refuses the file's extra keys.
    xtnn::sequential plain{xtnn::dense{3, 4}, xtnn::relu{}, xtnn::relu{}, xtnn::dense{4, 2}};
    REQUIRE_THROWS_WITH(xtnn::load_weights(plain, dir.path / "w.npz"),
                        Catch::Contains("layer 1 differs: the file has feature_tracker, the "
                                        "model has relu"));
    REQUIRE_THROWS_WITH(
        xtnn::load_weights(plain, dir.path / "w.npz", {.check_architecture = false}),
        Catch::Contains("unexpected key '1.") && Catch::Contains("no such parameter or buffer"));
}

TEST_CASE("buffers: numpy reads an int64 scalar and the float statistics",
          "[model][buffers][io][numpy]") {
    if (!xtnn::test::python_ready("numpy", "python3-numpy")) {
        return;
    }
    xtnn::test::scratch_directory dir;
    auto model = make_normed_model();
    const auto path = dir.path / "w.npz";
    xtnn::save_weights(model, path);
    const std::string out = xtnn::test::run_python(
        "import numpy as np; f = np.load('" + path.string() +
        "'); print(' '.join(f'{k}:{f[k].dtype}:{f[k].shape}' for k in sorted(f.files)))");
    CHECK(out == "0.bias:float32:(4,) 0.weight:float32:(4, 3) 1.num_batches_tracked:int64:() "
                 "1.running_mean:float32:(4,) 3.bias:float32:(2,) 3.weight:float32:(2, 4)\n");
}

TEST_CASE("buffers: early stopping restores them, checkpoints save them", "[model][buffers]") {
    xtnn::test::scratch_directory dir;
    const dataset data;
    auto model = make_normed_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::sgd({.learning_rate = 2.0})}; // too fast: val_loss wanders
    std::vector<std::int64_t> batches_at_epoch_end;
    auto record = xtnn::lambda_callback(xtnn::hook::epoch_end, [&](auto&) {
        batches_at_epoch_end.push_back(tracker_of(model).batches());
    });
    xtnn::early_stopping stop({.patience = 2, .restore_best_weights = true});
    xtnn::model_checkpoint checkpoint({.path = dir.path / "best.npz", .save_best_only = true});
    trainer.fit(data.x, data.y,
                {.epochs = 12,
                 .batch_size = 16,
                 .validation_split = 0.25,
                 .seed = 3,
                 .verbose = xtnn::verbosity::silent},
                record, stop, checkpoint);
    REQUIRE(stop.best_epoch() + 1 < batches_at_epoch_end.size()); // trained past the best
    const std::int64_t best = batches_at_epoch_end[stop.best_epoch()];
    CHECK(tracker_of(model).batches() == best);
    auto loaded = make_normed_model();
    xtnn::load_weights(loaded, dir.path / "best.npz");
    CHECK(tracker_of(loaded).batches() == best);
    CHECK(xtnn::test::equal(tracker_of(loaded).running_mean(), tracker_of(model).running_mean()));
}
