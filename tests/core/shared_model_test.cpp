// One model shared by threads: predict's calls take turns on the model's buffers, so every
// answer is right (run under ThreadSanitizer by the tsan preset, whose filter is "threads").
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

TEST_CASE("threads: one model, predict from 4 threads × 10,000 calls: every answer right",
          "[core][threads]") {
    xtnn::sequential model{xtnn::dense{4, 16}, xtnn::relu{}, xtnn::dropout{0.5},
                           xtnn::dense{16, 3}};
    model.initialize(2);
    constexpr std::size_t threads = 4;
    constexpr std::size_t calls = 10000;
    // Each thread its own batch size and inputs, so that a shared buffer would show.
    std::vector<xtnn::tensor<float, 2>> inputs;
    std::vector<xtnn::tensor<float, 2>> expected;
    xtnn::random_engine rng(5);
    for (std::size_t t = 0; t < threads; ++t) {
        xtnn::tensor<float, 2> x(xtnn::shape<2>{t + 1, 4});
        for (auto& v : x) {
            v = rng.uniform(-1.0f, 1.0f);
        }
        expected.push_back(xtnn::predict(model, x));
        inputs.push_back(std::move(x));
    }
    std::atomic<std::size_t> wrong{0};
    std::atomic<std::size_t> right{0};
    std::vector<std::thread> team;
    for (std::size_t t = 0; t < threads; ++t) {
        team.emplace_back([&, t] {
            for (std::size_t i = 0; i < calls; ++i) {
                bool same = false;
                if (t == threads - 1 && i % 2 == 1) {
                    // The other forms take the same turns.
                    const auto classes = xtnn::predict_classes(model, inputs[t]);
                    same = classes(0) ==
                           static_cast<std::int64_t>(xtnn::argmax(
                               std::span<const float>(expected[t].data(), expected[t].shape()[1])));
                } else {
                    same = xtnn::predict(model, inputs[t]) == expected[t];
                }
                (same ? right : wrong).fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (auto& thread : team) {
        thread.join();
    }
    CHECK(wrong.load() == 0);
    CHECK(right.load() == threads * calls);
}

TEST_CASE("threads: a thread holding the model's lock reads forward's buffer while others predict",
          "[core][threads]") {
    xtnn::sequential model{xtnn::dense{2, 8}, xtnn::tanh{}, xtnn::dense{8, 2}};
    model.initialize(1);
    const xtnn::tensor<float, 2> a = {{0.5f, -1.0f}};
    const xtnn::tensor<float, 2> b = {{-0.25f, 2.0f}, {1.0f, 1.0f}, {0.0f, 0.0f}};
    const auto expected_a = xtnn::predict(model, a);
    const auto expected_b = xtnn::predict(model, b);
    std::atomic<std::size_t> wrong{0};
    std::thread other([&] {
        for (int i = 0; i < 2000; ++i) {
            wrong += xtnn::predict(model, b) == expected_b ? 0U : 1U;
        }
    });
    for (int i = 0; i < 2000; ++i) {
        const auto held = model.lock();
        const auto& out = model.forward(a);
        wrong += out == expected_a ? 0U : 1U;
    }
    other.join();
    CHECK(wrong.load() == 0);
}
