// Counts heap allocations during training steps: after the first batch of a given shape,
// forward, loss, backward and the optimizer step must allocate nothing.

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "counter.hpp"

namespace {

// The number of allocations f makes.
template <class F>
long allocations_in(F&& f) {
    return xtnn::test::allocations_in(f).count;
}

// Runs training steps of `model` (784 inputs as (32, 784) or (32, 1, 28, 28), 10 classes) on
// a batch of 32 with `opt`.
template <class Model, class Optimizer>
void check_training_step(Model& model, Optimizer opt) {
    typename Model::input_type x;
    if constexpr (Model::input_rank == 4) {
        x.resize(xtnn::shape<4>{32, 1, 28, 28});
    } else {
        x.resize(xtnn::shape<2>{32, 784});
    }
    xtnn::random_engine rng(1);
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    xtnn::tensor<std::int64_t, 1> y(xtnn::shape<1>{32});
    for (std::size_t i = 0; i < 32; ++i) {
        y(i) = static_cast<std::int64_t>(i % 10);
    }
    auto params = model.parameters();
    xtnn::tensor<float, 2> dy;
    const xtnn::softmax_cross_entropy loss;
    auto step = [&] {
        const auto& out = model.forward(x, xtnn::mode::training);
        loss.value_and_gradient(out, y, dy);
        model.backward(x, dy);
        opt.step(params);
    };
    // The first step sizes every buffer and the optimizer state: it must allocate.
    CHECK(allocations_in(step) > 0);
    CHECK(allocations_in([&] {
              for (int i = 0; i < 10; ++i) {
                  step();
              }
          }) == 0);
    CHECK(allocations_in([&] { model.forward(x, xtnn::mode::inference); }) == 0);
}

template <class Optimizer>
void check_training_step(Optimizer opt) {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
                           xtnn::dense{128, 10}};
    check_training_step(model, opt);
}

} // namespace

TEST_CASE("allocation: the counter sees allocations", "[allocation]") {
    CHECK(allocations_in([] {
              int* p = new int(1);
              asm volatile("" : : "g"(p) : "memory"); // keep the compiler from eliding it
              delete p;
          }) == 1);
}

TEST_CASE("allocation: a warmed-up training step allocates nothing", "[allocation]") {
    SECTION("sgd with momentum") {
        check_training_step(xtnn::sgd({.momentum = 0.9}));
    }
    SECTION("adam") {
        check_training_step(xtnn::adam());
    }
    SECTION("adamw") {
        check_training_step(xtnn::adamw());
    }
    SECTION("rmsprop") {
        check_training_step(xtnn::rmsprop({.centered = true}));
    }
    SECTION("adagrad") {
        check_training_step(xtnn::adagrad());
    }
}

TEST_CASE("allocation: batch norm and residual blocks allocate nothing once warmed up",
          "[allocation]") {
    xtnn::sequential model{
        xtnn::dense({.in = 784, .out = 64, .bias = false}),
        xtnn::batch_norm1d{64},
        xtnn::relu{},
        xtnn::residual{xtnn::sequential{xtnn::dense{64, 64}, xtnn::batch_norm1d{64}, xtnn::relu{}}},
        xtnn::residual{xtnn::sequential{xtnn::dense{64, 32}}, xtnn::dense{64, 32}},
        xtnn::dense{32, 10}};
    check_training_step(model, xtnn::adam());
}

TEST_CASE("allocation: a convnet allocates nothing once warmed up, on one thread or two",
          "[allocation]") {
    for (const std::size_t threads : {1UL, 2UL}) {
        INFO(threads << " threads");
        xtnn::set_num_threads(threads);
        xtnn::sequential model{
            xtnn::random_affine<float>({.translation = 0.1, .rotation = 0.05, .zoom = 0.1}),
            xtnn::conv2d<float>{1, 8, 3}, xtnn::relu{}, xtnn::max_pool2d{2},
            // Winograd's forward, input gradient and weight gradient (where the CPU has AVX2
            // or AVX-512).
            xtnn::conv2d<float>({.in_channels = 8,
                                 .out_channels = 8,
                                 .bias = false,
                                 .algorithm = xtnn::conv_algorithm::winograd}),
            xtnn::batch_norm2d{8}, xtnn::relu{}, xtnn::avg_pool2d{2}, xtnn::flatten{},
            xtnn::dropout{0.5}, xtnn::dense{8 * 5 * 5, 10}};
        check_training_step(model, xtnn::adam());
        if (xtnn::active_simd() != xtnn::simd_level::portable) {
            // The last pass was in inference: one in training shows the backward's algorithms.
            const xtnn::tensor<float, 4> x(xtnn::shape<4>{2, 1, 28, 28}, 0.5f);
            model.forward(x, xtnn::mode::training);
            CHECK(model.layer<4>().algorithm() == xtnn::conv_algorithm::winograd);
            CHECK(model.layer<4>().gradient_algorithm() == xtnn::conv_algorithm::winograd);
            CHECK(model.layer<4>().weight_gradient_algorithm() == xtnn::conv_algorithm::winograd);
        }
    }
    xtnn::set_num_threads(1);
    xtnn::set_num_threads(0);
}

TEST_CASE("allocation: a warmed-up predict allocates only the outputs it returns", "[allocation]") {
    xtnn::sequential model{xtnn::dense{784, 64}, xtnn::relu{}, xtnn::dense{64, 10}};
    xtnn::tensor<float, 2> x(xtnn::shape<2>{96, 784});
    xtnn::random_engine rng(3);
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    const std::size_t result_bytes = 96 * 10 * sizeof(float);
    // Three batches of 32, gathered into the model's batch buffer, or one of 96 (or more), run
    // as it is; the first call sizes the model's buffers.
    for (const std::size_t batch : {32UL, 96UL, 256UL}) {
        INFO("batch_size " << batch);
        const auto first = xtnn::predict(model, x, batch);
        xtnn::tensor<float, 2> again;
        const auto seen =
            xtnn::test::allocations_in([&] { again = xtnn::predict(model, x, batch); });
        CHECK(seen.count == 1);
        CHECK(seen.largest == result_bytes);
        const bool same = again == first;
        CHECK(same);
        // The outputs of the model's forward pass on the whole input.
        const bool close = xt::allclose(again, model.forward(x), 1e-5, 1e-6);
        CHECK(close);
    }
}

TEST_CASE("allocation: fit's steady state allocates nothing per batch", "[allocation]") {
    const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 256, .seed = 1});
    xtnn::sequential model{xtnn::dense{2, 64}, xtnn::relu{}, xtnn::dropout{0.1},
                           xtnn::dense{64, 2}};
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{},
                          xtnn::top_k_accuracy(1)};
    // From the end of the first batch of the second epoch to the end of its last batch:
    // gathering, forward, loss, backward, step, metrics, logs and callbacks, shuffled.
    long during = -1;
    std::size_t batches_counted = 0;
    auto probe = xtnn::lambda_callback(xtnn::hook::batch_end, [&](auto& s) {
        if (s.epoch != 1) {
            return;
        }
        if (s.batch == 0) {
            xtnn::test::start_counting();
        } else if (s.batch + 1 == s.batches) {
            during = xtnn::test::stop_counting().count;
        }
        ++batches_counted;
    });
    // With class and sample weights too: the batch's weights go into a buffer sized once.
    const bool weighted = GENERATE(false, true);
    INFO("weighted: " << weighted);
    xtnn::fit_options options{.epochs = 2, .batch_size = 32, .verbose = xtnn::verbosity::silent};
    if (weighted) {
        options.class_weight = {1.0, 2.0};
        options.sample_weight.assign(data.labels.size(), 0.5);
    }
    trainer.fit(data.features, data.labels, options, probe);
    CHECK(batches_counted == 16);
    CHECK(during == 0);
}

TEST_CASE("allocation: fit's steps by groups of samples allocate nothing once warm",
          "[allocation]") {
    for (const std::size_t threads : {1UL, 2UL}) {
        INFO(threads << " threads");
        xtnn::set_num_threads(threads);
        xtnn::tensor<float, 4> x(xtnn::shape<4>{64, 1, 12, 12});
        xtnn::tensor<std::int32_t, 1> labels(xtnn::shape<1>{64});
        xtnn::random_engine rng(2);
        for (auto& v : x) {
            v = rng.uniform(0.0f, 1.0f);
        }
        for (std::size_t i = 0; i < labels.size(); ++i) {
            labels(i) = static_cast<std::int32_t>(i % 10);
        }
        xtnn::sequential model{xtnn::random_affine<float>({.translation = 0.1}),
                               xtnn::conv2d<float>{1, 4, 3},
                               xtnn::relu{},
                               xtnn::max_pool2d{2},
                               xtnn::flatten{},
                               xtnn::dropout{0.5},
                               xtnn::dense{4 * 5 * 5, 10}};
        model.set_training_group(4);
        REQUIRE(model.training_group({16, 1, 12, 12}) == 4);
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam(), xtnn::accuracy{}};
        long during = -1;
        auto probe = xtnn::lambda_callback(xtnn::hook::batch_end, [&](auto& s) {
            if (s.epoch == 1 && s.batch == 0) {
                xtnn::test::start_counting();
            } else if (s.epoch == 1 && s.batch + 1 == s.batches) {
                during = xtnn::test::stop_counting().count;
            }
        });
        trainer.fit(x, labels,
                    {.epochs = 2,
                     .batch_size = 16,
                     .verbose = xtnn::verbosity::silent,
                     .class_weight = std::vector<double>(10, 1.5)},
                    probe);
        CHECK(during == 0);
    }
    xtnn::set_num_threads(0);
}
