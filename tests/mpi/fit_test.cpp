// Data-parallel fit over MPI: the same weights as one process, the same bits every run and on
// every process, one error everywhere when a process fails, and callbacks that see the whole
// batch's figures. Run on 2 and 3 processes (see tests/CMakeLists.txt).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/mpi.hpp>
#include <xtnn/xtnn.hpp>

using Catch::Matchers::Contains;

namespace {

// MPI for the whole run, started by the first test (Catch2's own main runs the tests), ended
// after the last.
xtnn::mpi::communicator& world() {
    static xtnn::mpi::environment mpi;
    static xtnn::mpi::communicator w;
    return w;
}

// A seeded classification problem: n samples of `features` values in [-1, 1], 3 classes.
struct problem {
    xtnn::tensor<float, 2> x;
    xtnn::tensor<int, 1> y;
};

problem make_problem(std::size_t n, std::size_t features) {
    problem p{xtnn::tensor<float, 2>::from_shape({n, features}),
              xtnn::tensor<int, 1>::from_shape({n})};
    xtnn::random_engine rng(7);
    for (std::size_t i = 0; i < n; ++i) {
        float s = 0;
        for (std::size_t j = 0; j < features; ++j) {
            const auto v = static_cast<float>(rng.uniform(-1.0, 1.0));
            p.x(i, j) = v;
            s += v * static_cast<float>(j % 3 + 1);
        }
        p.y(i) = s < -0.5f ? 0 : (s < 0.5f ? 1 : 2);
    }
    return p;
}

// The largest difference over a tensor, relative to its largest value.
template <class Model>
double relative_difference(Model& a, Model& b) {
    auto pa = a.parameters();
    auto pb = b.parameters();
    double worst = 0;
    for (std::size_t i = 0; i < pa.size(); ++i) {
        double diff = 0;
        double scale = 0;
        for (std::size_t j = 0; j < pa[i].value.size(); ++j) {
            diff = std::max(diff, std::abs(static_cast<double>(pa[i].value[j] - pb[i].value[j])));
            scale = std::max(scale, std::abs(static_cast<double>(pb[i].value[j])));
        }
        worst = std::max(worst, diff / std::max(scale, 1e-30));
    }
    return worst;
}

template <class Model>
std::vector<float> all_values(Model& m) {
    std::vector<float> v;
    for (const auto& p : m.parameters()) {
        v.insert(v.end(), p.value.begin(), p.value.end());
    }
    for (const auto& b : m.buffers()) {
        std::visit([&](auto s) { v.insert(v.end(), s.begin(), s.end()); }, b.value);
    }
    return v;
}

// Whether every process holds exactly rank 0's `values`.
bool same_on_every_process(const std::vector<float>& values) {
    auto& w = world();
    std::vector<float> mine = values;
    std::vector<float> first = values;
    w.broadcast(std::as_writable_bytes(std::span(first)), 0);
    double differs = std::memcmp(first.data(), mine.data(), mine.size() * sizeof(float)) != 0;
    w.sum(std::span(&differs, 1));
    return differs == 0;
}

auto mlp() {
    return xtnn::sequential{xtnn::dense{12, 16}, xtnn::relu{}, xtnn::dense{16, 3}};
}

auto convnet() {
    return xtnn::sequential{xtnn::conv2d<float>({.in_channels = 1, .out_channels = 4}),
                            xtnn::relu{}, xtnn::max_pool2d{}, xtnn::flatten{}, xtnn::dense{36, 3}};
}

const auto silent = xtnn::verbosity::silent;

} // namespace

TEST_CASE("fit on several processes gives one process's MLP, uneven shards included", "[mpi]") {
    const auto data = make_problem(203, 12); // batches of 32 and a last of 11; 64 = 21 + 21 + 22
    for (const std::size_t batch : {32U, 64U}) {
        auto spread = mlp();
        auto alone = mlp();
        spread.initialize(3);
        alone.initialize(3);
        // SGD: a gradient off by any factor moves the weights (Adam would hide a common one).
        const xtnn::sgd_options sgd{.learning_rate = 0.1, .momentum = 0.9};
        xtnn::trainer a{spread, xtnn::softmax_cross_entropy{}, xtnn::sgd(sgd), xtnn::accuracy{}};
        xtnn::trainer b{alone, xtnn::softmax_cross_entropy{}, xtnn::sgd(sgd), xtnn::accuracy{}};
        const auto ha = a.fit(data.x, data.y,
                              {.epochs = 4,
                               .batch_size = batch,
                               .validation_split = 0.1,
                               .seed = 5,
                               .verbose = silent,
                               .distributed = &world()});
        const auto hb = b.fit(data.x, data.y,
                              {.epochs = 4,
                               .batch_size = batch,
                               .validation_split = 0.1,
                               .seed = 5,
                               .verbose = silent});
        INFO("batch " << batch << " on " << world().size() << " processes");
        CHECK(relative_difference(spread, alone) <= 1e-5);
        // The logs are the whole batch's: the same as one process's.
        for (const auto* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
            for (std::size_t e = 0; e < 4; ++e) {
                CHECK(ha[key][e] == Approx(hb[key][e]).epsilon(1e-5));
            }
        }
    }
}

TEST_CASE("fit on several processes gives one process's convnet, weighted samples included",
          "[mpi]") {
    const auto flat = make_problem(150, 64);
    auto images = xtnn::tensor<float, 4>::from_shape({150, 1, 8, 8});
    std::copy(flat.x.begin(), flat.x.end(), images.begin());
    std::vector<double> sample_weight(150);
    for (std::size_t i = 0; i < 150; ++i) {
        sample_weight[i] = 0.5 + static_cast<double>(i % 4) * 0.25;
    }
    auto spread = convnet();
    auto alone = convnet();
    xtnn::trainer a{spread, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.05})};
    xtnn::trainer b{alone, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.05})};
    const xtnn::fit_options options{.epochs = 3,
                                    .batch_size = 25,
                                    .seed = 9,
                                    .verbose = silent,
                                    .class_weight = {1.0, 2.0, 0.5},
                                    .sample_weight = sample_weight};
    auto spread_options = options;
    spread_options.distributed = &world();
    const auto ha = a.fit(images, flat.y, spread_options);
    const auto hb = b.fit(images, flat.y, options);
    CHECK(relative_difference(spread, alone) <= 1e-5);
    CHECK(ha["loss"].back() == Approx(hb["loss"].back()).epsilon(1e-5));
}

TEST_CASE("fit on several processes: the same bits every run and on every process", "[mpi]") {
    const auto data = make_problem(120, 12);
    std::vector<std::vector<float>> runs;
    for (int run = 0; run < 2; ++run) {
        auto model = xtnn::sequential{xtnn::dense{12, 16}, xtnn::relu{}, xtnn::batch_norm1d{16},
                                      xtnn::dense{16, 3}};
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 1e-2})};
        t.fit(data.x, data.y,
              {.epochs = 3, .batch_size = 16, .verbose = silent, .distributed = &world()});
        runs.push_back(all_values(model));
    }
    CHECK(runs[0] == runs[1]);
    // Parameters and batch norm's running statistics (rank 0's) are the same everywhere.
    CHECK(same_on_every_process(runs[0]));
}

TEST_CASE("fit on several processes: a process that fails stops every process with its error",
          "[mpi]") {
    const auto data = make_problem(96, 12);
    const std::size_t last = world().size() - 1;
    SECTION("a NaN loss in one process's shard") {
        auto x = data.x;
        // Row 0 of the first batch of 32 goes to rank 0 (no shuffle): an input there so large
        // that its outputs overflow and the loss is NaN (a NaN input is refused before fit
        // starts, on every process).
        for (std::size_t j = 0; j < x.shape()[1]; ++j) {
            x(0, j) = std::numeric_limits<float>::max();
        }
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        CHECK_THROWS_AS(t.fit(x, data.y,
                              {.epochs = 2,
                               .batch_size = 32,
                               .shuffle = false,
                               .verbose = silent,
                               .distributed = &world()}),
                        xtnn::numeric_error);
        try {
            t.fit(x, data.y,
                  {.epochs = 2,
                   .batch_size = 32,
                   .shuffle = false,
                   .verbose = silent,
                   .distributed = &world()});
        } catch (const xtnn::numeric_error& e) {
            CHECK_THAT(e.what(), Contains("rank 0 of " + std::to_string(world().size())) &&
                                     Contains("epoch 1, batch 1"));
            const auto* failure = dynamic_cast<const xtnn::process_failure*>(&e);
            REQUIRE(failure != nullptr);
            CHECK(failure->failed_rank == 0);
        }
    }
    SECTION("a callback that throws on the last process only") {
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        auto fails = xtnn::lambda_callback(xtnn::hook::batch_end, [&](auto& state) {
            if (state.rank == last && state.epoch == 1 && state.batch == 2) {
                throw xtnn::io_error("disk full (from a test)");
            }
        });
        try {
            t.fit(data.x, data.y,
                  {.epochs = 3, .batch_size = 16, .verbose = silent, .distributed = &world()},
                  fails);
            FAIL("fit did not throw");
        } catch (const xtnn::io_error& e) {
            CHECK_THAT(e.what(), Contains("rank " + std::to_string(last) + " of") &&
                                     Contains("disk full (from a test)"));
        }
    }
    // Every process is still in step: one more collective fit works.
    auto model = mlp();
    xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    CHECK(t.fit(data.x, data.y, {.epochs = 1, .verbose = silent, .distributed = &world()}).size() ==
          1);
}

TEST_CASE("fit on several processes: a mismatch between processes is found before training",
          "[mpi]") {
    const auto data = make_problem(100, 12);
    const bool odd_one = world().rank() == world().size() - 1;
    const std::string last = std::to_string(world().size() - 1);
    SECTION("a process with fewer samples") {
        const auto fewer = make_problem(99, 12);
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        const auto& mine = odd_one ? fewer : data;
        REQUIRE_THROWS_WITH(
            t.fit(mine.x, mine.y, {.verbose = silent, .distributed = &world()}),
            Contains("the processes differ in training samples: rank 0 has 100, rank " + last +
                     " has 99"));
    }
    SECTION("a process with other data of the same size") {
        auto other = data;
        other.x(5, 5) += 1.0f;
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        const auto& mine = odd_one ? other : data;
        REQUIRE_THROWS_AS(t.fit(mine.x, mine.y, {.verbose = silent, .distributed = &world()}),
                          xtnn::config_error);
        REQUIRE_THROWS_WITH(t.fit(mine.x, mine.y, {.verbose = silent, .distributed = &world()}),
                            Contains("the processes differ in the training inputs (x): rank " +
                                     last + "'s differ from rank 0's from sample 5 on (of 100)"));
    }
    SECTION("a process with another model") {
        auto relu_model = mlp();
        auto tanh_model = xtnn::sequential{xtnn::dense{12, 16}, xtnn::tanh{}, xtnn::dense{16, 3}};
        xtnn::trainer a{relu_model, xtnn::softmax_cross_entropy{},
                        xtnn::sgd({.learning_rate = 0.1})};
        xtnn::trainer b{tanh_model, xtnn::softmax_cross_entropy{},
                        xtnn::sgd({.learning_rate = 0.1})};
        const xtnn::fit_options o{.verbose = silent, .distributed = &world()};
        const std::string rank0 = "the processes train different models: rank 0 has 'layer 1: relu";
        const std::string other = "rank " + last + " has 'layer 1: tanh";
        if (odd_one) {
            REQUIRE_THROWS_WITH(b.fit(data.x, data.y, o), Contains(rank0) && Contains(other));
        } else {
            REQUIRE_THROWS_WITH(a.fit(data.x, data.y, o), Contains(rank0) && Contains(other));
        }
    }
    SECTION("a process with another validation split") {
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        REQUIRE_THROWS_WITH(t.fit(data.x, data.y,
                                  {.validation_split = odd_one ? 0.25 : 0.2,
                                   .verbose = silent,
                                   .distributed = &world()}),
                            Contains("the processes differ in validation_split: rank 0 has 0.2, "
                                     "rank " +
                                     last + " has 0.25"));
    }
    SECTION("a process with another batch size") {
        auto model = mlp();
        xtnn::trainer t{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
        REQUIRE_THROWS_AS(
            t.fit(data.x, data.y,
                  {.batch_size = odd_one ? 16U : 32U, .verbose = silent, .distributed = &world()}),
            xtnn::config_error);
    }
}

TEST_CASE("fit on several processes: callbacks see the whole batch's figures; rank 0 writes",
          "[mpi]") {
    const auto data = make_problem(160, 12);
    auto spread = mlp();
    auto alone = mlp();
    xtnn::trainer a{spread, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 1e-2}),
                    xtnn::accuracy{}};
    xtnn::trainer b{alone, xtnn::softmax_cross_entropy{}, xtnn::adam({.learning_rate = 1e-2}),
                    xtnn::accuracy{}};
    std::vector<double> seen_a, seen_b;
    auto record = [](std::vector<double>& into) {
        return xtnn::lambda_callback(xtnn::hook::batch_end, [&into](auto& state) {
            into.push_back(state.batch_loss);
            into.push_back(state.log("accuracy"));
        });
    };
    // Each process its own file name: only rank 0's may appear.
    const auto directory = std::filesystem::temp_directory_path() /
                           ("xtnn_mpi_checkpoint_" + std::to_string(world().rank()));
    std::filesystem::create_directories(directory);
    xtnn::model_checkpoint checkpoint({.path = directory / "epoch{epoch}.npz"});
    // Rank 0 decides the learning rate; early stopping stops every process at the same epoch.
    auto schedule = xtnn::lambda_callback(xtnn::hook::epoch_begin, [](auto& state) {
        state.learning_rate = state.rank == 0 ? 5e-3 : 1.0;
    });
    xtnn::early_stopping stop({.monitor = "loss", .min_delta = 10.0, .patience = 1});
    const auto ha = a.fit(
        data.x, data.y, {.epochs = 6, .batch_size = 20, .verbose = silent, .distributed = &world()},
        record(seen_a), checkpoint, schedule, stop);
    auto same_schedule = xtnn::lambda_callback(xtnn::hook::epoch_begin,
                                               [](auto& state) { state.learning_rate = 5e-3; });
    xtnn::early_stopping stop_b({.monitor = "loss", .min_delta = 10.0, .patience = 1});
    const auto hb = b.fit(data.x, data.y, {.epochs = 6, .batch_size = 20, .verbose = silent},
                          record(seen_b), same_schedule, stop_b);
    CHECK(ha.size() == 2);
    CHECK(hb.size() == 2);
    REQUIRE(seen_a.size() == seen_b.size());
    for (std::size_t i = 0; i < seen_a.size(); ++i) {
        CHECK(seen_a[i] == Approx(seen_b[i]).epsilon(1e-5));
    }
    CHECK(relative_difference(spread, alone) <= 1e-5);
    CHECK(checkpoint.saved().size() == (world().rank() == 0 ? 2U : 0U));
    CHECK(std::filesystem::exists(directory / "epoch01.npz") == (world().rank() == 0));
    std::filesystem::remove_all(directory);
}
