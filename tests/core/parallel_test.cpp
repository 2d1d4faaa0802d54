// xtnn's own threads: the team covers every item once, errors come back, nested and concurrent
// loops run; a convnet trains the same on one thread and on two. (These run under
// ThreadSanitizer too: scripts/test.sh tsan.)
#include <algorithm>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/training.hpp"

namespace {

// Sets xtnn's threads for a scope, then returns to the default.
struct threads_for_scope {
    explicit threads_for_scope(std::size_t n) { xtnn::set_num_threads(n); }
    threads_for_scope(const threads_for_scope&) = delete;
    threads_for_scope& operator=(const threads_for_scope&) = delete;
    ~threads_for_scope() {
        xtnn::set_num_threads(1);
        xtnn::set_num_threads(0);
    }
};

// Read through volatile so the compiler cannot fold the product at compile time.
volatile float half = 0.5f;

auto convnet() {
    return xtnn::sequential{xtnn::conv2d{1, 8, 3},  xtnn::relu{},        xtnn::max_pool2d{},
                            xtnn::conv2d{8, 16, 3}, xtnn::relu{},        xtnn::max_pool2d{},
                            xtnn::flatten{},        xtnn::dense{400, 10}};
}

struct step_result {
    std::vector<float> logits, gradients, weights;
};

// Three Adam steps of the convnet on a fixed batch with `threads` threads.
step_result train(std::size_t threads, std::size_t batch) {
    const threads_for_scope scope(threads);
    auto model = convnet();
    model.initialize(7);
    const auto x = xtnn::test::random_tensor<float, 4>({batch, 1, 28, 28}, 3, 0.0, 1.0);
    xtnn::tensor<std::int64_t, 1> y(xtnn::shape<1>{batch});
    for (std::size_t i = 0; i < batch; ++i) {
        y(i) = static_cast<std::int64_t>(i % 10);
    }
    auto params = model.parameters();
    xtnn::adam optimizer;
    const xtnn::softmax_cross_entropy loss;
    xtnn::tensor<float, 2> dy;
    step_result r;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        if (step == 0) {
            r.logits.assign(logits.begin(), logits.end());
        }
        loss.value_and_gradient(logits, y, dy);
        model.backward(x, dy);
        if (step == 0) {
            for (const auto& p : params) {
                r.gradients.insert(r.gradients.end(), p.gradient.begin(), p.gradient.end());
            }
        }
        optimizer.step(params);
    }
    for (const auto& p : params) {
        r.weights.insert(r.weights.end(), p.value.begin(), p.value.end());
    }
    return r;
}

// The largest difference over the largest value of `a`: for sums whose terms cancel, whose
// rounding is that of their terms, not of their result.
double worst_of_largest(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0, largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
        largest = std::max(largest, std::abs(double(a[i])));
    }
    return worst / largest;
}

double worst_relative(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double scale = std::max({1e-3, std::abs(double(a[i])), std::abs(double(b[i]))});
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / scale);
    }
    return worst;
}

// Passes its input on; records which threads ran its training forwards (shared by the
// model's copies) and, when `uneven`, draws one more random value at every call than the
// call before (a random layer whose draws per group are not fixed).
struct thread_probe : xtnn::layer_base<thread_probe, float, 2, 2> {
    static constexpr std::string_view name = "thread_probe";
    static constexpr bool trains_by_samples = true;
    struct seen {
        std::mutex mutex;
        std::map<std::thread::id, std::size_t> calls; // training forwards by thread
    };
    std::shared_ptr<seen> log = std::make_shared<seen>();
    bool uneven = false;
    std::size_t calls = 0;
    xtnn::random_engine rng{1};
    xtnn::random_engine& random_stream() { return rng; }
    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 2>& x, xtnn::tensor<float, 2>& y, xtnn::mode m) {
        if (m == xtnn::mode::training) {
            const std::lock_guard lock(log->mutex);
            ++log->calls[std::this_thread::get_id()];
        }
        for (std::size_t i = 0; uneven && i <= calls; ++i) {
            rng();
        }
        ++calls;
        std::copy(x.begin(), x.end(), y.begin());
    }
    void compute_backward(const xtnn::tensor<float, 2>&, const xtnn::tensor<float, 2>&,
                          const xtnn::tensor<float, 2>& dy, xtnn::tensor<float, 2>* dx) const {
        if (dx != nullptr) {
            std::copy(dy.begin(), dy.end(), dx->begin());
        }
    }
};

struct fit_result {
    std::vector<float> weights;
    std::vector<double> losses;
    std::size_t threads_seen = 0;
    std::size_t elsewhere = 0; // groups run on a thread other than fit's caller
};

// Two epochs of fit on 64 images in batches of 32, groups of 4 samples, with `threads`
// threads: a convnet with dropout (masks drawn per group) and class weights; `resumed`: as
// two fits of an epoch each, the second from initial_epoch 1.
fit_result fit_in_groups(std::size_t threads, bool uneven_draws, bool resumed = false) {
    const threads_for_scope scope(threads);
    xtnn::sequential model{xtnn::conv2d{1, 4, 3},    xtnn::relu{},   xtnn::max_pool2d{},
                           xtnn::flatten{},          thread_probe{}, xtnn::dropout{0.25},
                           xtnn::dense{4 * 5 * 5, 3}};
    model.initialize(5);
    model.layer<4>().uneven = uneven_draws;
    model.set_training_group(4);
    const auto x = xtnn::test::random_tensor<float, 4>({64, 1, 12, 12}, 3, 0.0, 1.0);
    xtnn::tensor<std::int32_t, 1> y(xtnn::shape<1>{64});
    for (std::size_t i = 0; i < y.size(); ++i) {
        y(i) = static_cast<std::int32_t>(i * 7 % 3);
    }
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::sgd({.learning_rate = 0.1, .momentum = 0.9})};
    xtnn::fit_options options{.epochs = 2,
                              .batch_size = 32,
                              .seed = 3,
                              .verbose = xtnn::verbosity::silent,
                              .class_weight = {1.0, 2.0, 0.5}};
    std::vector<double> losses;
    if (resumed) {
        options.epochs = 1;
        losses = trainer.fit(x, y, options)["loss"];
        options.epochs = 2;
        options.initial_epoch = 1;
    }
    const auto history = trainer.fit(x, y, options);
    for (const double loss : history["loss"]) {
        losses.push_back(loss);
    }
    const auto& calls = model.layer<4>().log->calls;
    std::size_t elsewhere = 0;
    for (const auto& [thread, n] : calls) {
        elsewhere += thread == std::this_thread::get_id() ? 0 : n;
    }
    return {xtnn::test::parameters_of(model), losses, calls.size(), elsewhere};
}

} // namespace

TEST_CASE("threads: set_num_threads refuses counts the machine cannot run", "[core][threads]") {
    const threads_for_scope scope(2);
    const std::size_t most = xtnn::max_num_threads();
    CHECK(most >= 8);
    CHECK(most >= 4 * std::size_t{std::thread::hardware_concurrency()});
    for (const std::size_t threads : {most + 1, std::size_t{10000}, SIZE_MAX}) {
        INFO(threads);
        REQUIRE_THROWS_MATCHES(xtnn::set_num_threads(threads), xtnn::config_error,
                               Catch::Message("set_num_threads: " + std::to_string(threads) +
                                              " threads is impossible here; expected at most " +
                                              std::to_string(most) +
                                              " (4 per hardware thread; this machine has " +
                                              std::to_string(std::thread::hardware_concurrency()) +
                                              "), or 0 for the default"));
        CHECK(xtnn::num_threads() == 2); // unchanged
    }
    xtnn::set_num_threads(3);
    CHECK(xtnn::num_threads() == 3);
}

TEST_CASE("threads: parallel_for covers every item once, in balanced parts", "[core][threads]") {
    const threads_for_scope scope(2);
    CHECK(xtnn::num_threads() == 2);
    for (const std::size_t n : {0UL, 1UL, 2UL, 3UL, 7UL, 1000UL}) {
        for (const std::size_t grain : {1UL, 4UL, 600UL}) {
            INFO("n " << n << ", grain " << grain);
            const xtnn::detail::partition split(n, grain, xtnn::num_threads());
            CHECK(split.parts == std::clamp<std::size_t>(n / grain, 1, 2));
            std::vector<std::atomic<int>> seen(n);
            std::vector<std::size_t> sizes(split.parts);
            xtnn::detail::parallel_for(split,
                                       [&](std::size_t first, std::size_t last, std::size_t part) {
                                           sizes[part] = last - first;
                                           for (std::size_t i = first; i < last; ++i) {
                                               seen[i].fetch_add(1);
                                           }
                                       });
            for (std::size_t i = 0; i < n; ++i) {
                CHECK(seen[i].load() == 1);
            }
            CHECK(split.begin(split.parts) == n);
            if (split.parts == 2) {
                CHECK(sizes[0] - sizes[1] <= 1);
            }
        }
    }
}

TEST_CASE("threads: a part's error reaches the caller, and the team works on", "[core][threads]") {
    const threads_for_scope scope(2);
    const xtnn::detail::partition split(10, 1, 2);
    REQUIRE(split.parts == 2);
    for (const std::size_t failing : {0UL, 1UL}) {
        REQUIRE_THROWS_MATCHES(
            xtnn::detail::parallel_for(split,
                                       [&](std::size_t, std::size_t, std::size_t part) {
                                           if (part == failing) {
                                               throw std::runtime_error("part failed");
                                           }
                                       }),
            std::runtime_error, Catch::Message("part failed"));
    }
    std::atomic<std::size_t> total{0};
    xtnn::detail::parallel_for(
        split, [&](std::size_t first, std::size_t last, std::size_t) { total += last - first; });
    CHECK(total.load() == 10);
}

TEST_CASE("threads: between runs the workers poll only briefly, then sleep", "[core][threads]") {
    const threads_for_scope scope(2);
    // Runs back to back: each worker sees the next run while it polls, and all are covered.
    std::atomic<std::size_t> total{0};
    for (int run = 0; run < 1000; ++run) {
        xtnn::detail::parallel_for(
            2, 1, [&](std::size_t first, std::size_t last, std::size_t) { total += last - first; });
    }
    CHECK(total.load() == 2000);
    // Idle, the team takes no core: the process's processor time over 200 ms of sleep stays
    // far below the 200 ms that a worker polling on would take. (Up to three windows: other
    // threads of the process, OpenBLAS's or a sanitizer's, may be busy for a while.)
    double busy = 1;
    for (int window = 0; window < 3 && busy >= 0.05; ++window) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // past the polling
        const std::clock_t before = std::clock();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        busy = static_cast<double>(std::clock() - before) / CLOCKS_PER_SEC;
    }
    CHECK(busy < 0.05);
}

TEST_CASE("threads: nested loops and loops from two threads at once run, serially if need be",
          "[core][threads]") {
    const threads_for_scope scope(2);
    std::atomic<std::size_t> inner{0};
    xtnn::detail::parallel_for(4, 1, [&](std::size_t first, std::size_t last, std::size_t) {
        for (std::size_t i = first; i < last; ++i) {
            xtnn::detail::parallel_for(
                8, 1, [&](std::size_t a, std::size_t b, std::size_t) { inner += b - a; });
        }
    });
    CHECK(inner.load() == 32);

    // Two user threads each train their own model: each gets the team or runs serially.
    std::vector<float> first, second;
    std::thread a([&] { first = train(2, 6).weights; });
    std::thread b([&] { second = train(2, 6).weights; });
    a.join();
    b.join();
    REQUIRE(first.size() == second.size());
    CHECK(worst_relative(first, second) < 1e-5);
}

TEST_CASE("threads: the workers flush denormals when the caller does", "[core][threads]") {
#if XTNN_HAS_MXCSR
    const threads_for_scope scope(2);
    std::vector<float> products(2, -1.0f);
    {
        const xtnn::flush_denormals_guard guard;
        xtnn::detail::parallel_for(2, 1, [&](std::size_t first, std::size_t, std::size_t) {
            products[first] = FLT_MIN * half;
        });
    }
    CHECK(products[0] == 0.0f);
    CHECK(products[1] == 0.0f);
    xtnn::detail::parallel_for(2, 1, [&](std::size_t first, std::size_t, std::size_t) {
        products[first] = FLT_MIN * half;
    });
    CHECK(std::fpclassify(products[1]) == FP_SUBNORMAL);
#else
    SUCCEED("no MXCSR on this CPU: nothing to flush");
#endif
}

TEST_CASE("threads: a convnet trains the same on one thread and on two", "[core][threads]") {
    // Odd batch: uneven parts. The forward splits samples and planes; the direct kernels sum
    // each output the same way whatever the split, so its outputs are bit-identical. Without
    // them (XTNN_SIMD=portable, a CPU without AVX2) the convolutions are BLAS products over
    // each part's samples, whose columns OpenBLAS rounds differently at a product's edge: the
    // same within float rounding. The weight gradient adds the parts' sums (another rounding
    // order), which moves a sum that cancels to 1/150 of the largest gradient by 1.5e-5 of
    // itself (the first layer's, on Zen 4 with OpenBLAS's AVX-512 kernels).
    const auto one = train(1, 9);
    const auto two = train(2, 9);
    if (xtnn::active_simd() != xtnn::simd_level::portable) {
        CHECK(one.logits == two.logits);
    } else {
        CHECK(worst_relative(one.logits, two.logits) < 1e-6);
    }
    CHECK(worst_of_largest(one.gradients, two.gradients) < 1e-6);
    CHECK(worst_relative(one.weights, two.weights) < 1e-4);
    // The same thread count gives the same bits.
    CHECK(two.weights == train(2, 9).weights);
}

TEST_CASE("threads: one image in inference shares its convolutions between the threads",
          "[core][threads]") {
    // The Keras convnet: the first convolution splits its filters (direct kernels), the
    // second too (Winograd, where the CPU has AVX2); the same outputs.
    auto model = xtnn::sequential{xtnn::conv2d{1, 32, 3},  xtnn::relu{},         xtnn::max_pool2d{},
                                  xtnn::conv2d{32, 64, 3}, xtnn::relu{},         xtnn::max_pool2d{},
                                  xtnn::flatten{},         xtnn::dense{1600, 10}};
    model.initialize(5);
    const auto x = xtnn::test::random_tensor<float, 4>({1, 1, 28, 28}, 8, 0.0, 1.0);
    std::vector<float> one, two;
    {
        const threads_for_scope scope(1);
        const auto& y = model.forward(x, xtnn::mode::inference);
        one.assign(y.begin(), y.end());
    }
    {
        const threads_for_scope scope(2);
        for (int run = 0; run < 3; ++run) {
            const auto& y = model.forward(x, xtnn::mode::inference);
            two.assign(y.begin(), y.end());
            CHECK(two == one);
        }
        // Without the direct kernels (portable) one image's products stay whole.
        const std::size_t shared = xtnn::active_simd() == xtnn::simd_level::portable ? 1 : 2;
        CHECK(model.layer<0>().sample_threads() == shared);
        CHECK(model.layer<3>().sample_threads() == shared);
    }
}

TEST_CASE("threads: gradients of the split layers are right on two threads", "[core][threads]") {
    const threads_for_scope scope(2);
    const auto x = xtnn::test::random_tensor<double, 4>({5, 2, 7, 6}, 4);
    xtnn::sequential model{xtnn::conv2d<double>({.in_channels = 2,
                                                 .out_channels = 3,
                                                 .kernel_size = 3,
                                                 .padding = 1,
                                                 .workspace = 200}),
                           xtnn::tanh{}, xtnn::max_pool2d{}, xtnn::flatten{},
                           xtnn::dense<double>{3 * 3 * 3, 2}};
    XTNN_REQUIRE_GRADIENTS(xtnn::check_gradients(model, x));
}

namespace {

// An optimizer of each kind, with every state buffer in use.
template <class Optimizer>
Optimizer busy_optimizer() {
    if constexpr (std::same_as<Optimizer, xtnn::sgd<float>>) {
        return Optimizer({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
    } else if constexpr (std::same_as<Optimizer, xtnn::rmsprop<float>>) {
        return Optimizer({.momentum = 0.5, .centered = true, .weight_decay = 1e-3});
    } else {
        return Optimizer({.learning_rate = 0.01});
    }
}

} // namespace

TEMPLATE_TEST_CASE("threads: an optimizer updates a weight by the rows that its gradient's "
                   "product split over the threads, with one thread's bits",
                   "[core][threads]", xtnn::sgd<float>, xtnn::adam<float>, xtnn::adamw<float>,
                   xtnn::rmsprop<float>, xtnn::adagrad<float>) {
    // A dense layer's weight gradient dyᵀ·x, 130 × 300 over a batch of 256 (20 MFLOP): on two
    // threads by rows in two parts of whole 8-row units (72 and 58 rows; 21,600 values, the
    // update's parts at 21,568: a multiple of 64), then three steps of the optimizer.
    const auto x = xtnn::test::random_tensor<float, 2>({256, 300}, 2);
    const auto dy = xtnn::test::random_tensor<float, 2>({256, 130}, 3);
    const auto run = [&](std::size_t threads) {
        const threads_for_scope scope(threads);
        auto w = xtnn::test::random_tensor<float, 2>({130, 300}, 1);
        auto b = xtnn::test::random_tensor<float, 1>({130}, 4);
        xtnn::tensor<float, 2> g(xtnn::shape<2>{130, 300});
        xtnn::tensor<float, 1> gb(xtnn::shape<1>{130});
        std::fill(gb.begin(), gb.end(), 0.25F);
        std::vector<xtnn::parameter_view<float>> views{{"weight",
                                                        std::span<float>(w.data(), w.size()),
                                                        std::span<float>(g.data(), g.size()),
                                                        {130, 300}},
                                                       {"bias",
                                                        std::span<float>(b.data(), b.size()),
                                                        std::span<float>(gb.data(), gb.size()),
                                                        {130}}};
        auto optimizer = busy_optimizer<TestType>();
        for (int step = 0; step < 3; ++step) {
            xtnn::gemm(dy, x, g, {.transpose_a = true, .split = xtnn::product_split::rows});
            CHECK(xtnn::detail::owned_parts(g.data()) ==
                  std::min(threads, xtnn::detail::product_threads()));
            CHECK(xtnn::detail::owned_parts(gb.data()) == 1); // never split: whole
            optimizer.step(views);
        }
        std::vector<float> after(w.begin(), w.end());
        after.insert(after.end(), b.begin(), b.end());
        return after;
    };
    const auto one = run(1);
    const auto two = run(2);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("threads: set_num_threads, and BLAS held to one thread inside a convnet only",
          "[core][threads]") {
    {
        const threads_for_scope scope(3);
        CHECK(xtnn::num_threads() == 3);
#if XTNN_OPENBLAS_THREADS
        if (openblas_get_num_threads != nullptr) {
            CHECK(openblas_get_num_threads() == 3);
            auto model = convnet();
            const auto x = xtnn::test::random_tensor<float, 4>({4, 1, 28, 28}, 1);
            model.forward(x, xtnn::mode::training);
            // The model set BLAS to one thread while it worked, and gave the 3 back.
            CHECK(openblas_get_num_threads() == 3);
        }
#endif
    }
    CHECK(xtnn::num_threads() >= 1); // the default again: OpenBLAS's count
#if XTNN_OPENBLAS_THREADS
    if (openblas_set_num_threads != nullptr) {
        // OPENBLAS_NUM_THREADS (here set at run time) is the default count, also while a
        // model holds BLAS to one thread.
        openblas_set_num_threads(2);
        CHECK(xtnn::num_threads() == 2);
        {
            const xtnn::detail::single_threaded_blas hold;
            CHECK(openblas_get_num_threads() == 1);
            CHECK(xtnn::num_threads() == 2);
        }
        CHECK(openblas_get_num_threads() == 2);
        openblas_set_num_threads(1);
    }
#endif
    CHECK(xtnn::splits_batch_v<xtnn::conv2d<float>>);
    CHECK(xtnn::splits_batch_v<decltype(convnet())>);
    CHECK_FALSE(xtnn::splits_batch_v<xtnn::dense<float>>);
    CHECK_FALSE(xtnn::splits_batch_v<xtnn::activation_layer<xtnn::relu, float, 2>>);
    using mlp = xtnn::sequential<xtnn::dense<float>, xtnn::relu, xtnn::dense<float>>;
    CHECK_FALSE(xtnn::splits_batch_v<mlp>);
}

TEST_CASE("threads: fit runs a step's groups on two threads at once, each on a copy of the model, "
          "as one thread runs them",
          "[core][threads]") {
    const auto one = fit_in_groups(1, false);
    const auto two = fit_in_groups(2, false);
    CHECK(one.threads_seen == 1);
    CHECK(two.threads_seen == 2);
    // 4 steps of 8 groups, 4 a thread; each fit's first step counts dropout's draws on its
    // first group alone, then runs the rest at once.
    CHECK(two.elsewhere == 16);
    // The same dropout masks and the same gradients, added in another order: the weights
    // differ by float rounding, measured against the largest (element by element, a small
    // weight's rounding after 8 momentum steps reached 1.2e-5 of itself at AVX-512).
    CHECK(worst_of_largest(one.weights, two.weights) < 1e-6);
    REQUIRE(two.losses.size() == 2);
    CHECK(two.losses[0] == Approx(one.losses[0]).epsilon(1e-6));
    CHECK(two.losses[1] == Approx(one.losses[1]).epsilon(1e-6));
    CHECK(one.losses[1] < one.losses[0]);
    // The same thread count gives the same bits, also resumed from an epoch: each fit's first
    // step counts on its first group alone, with the sums it has at once.
    CHECK(two.weights == fit_in_groups(2, false).weights);
    const auto resumed = fit_in_groups(2, false, true);
    CHECK(resumed.weights == two.weights);
    CHECK(resumed.losses == two.losses);
}

TEST_CASE("threads: a random layer that draws unequally per group makes fit run a step's parts in "
          "turn, with the same bits",
          "[core][threads]") {
    // The first step runs at once, its parts' draws do not add up to their groups' counts,
    // and the later steps run their parts in turn on the calling thread, each copy's engines
    // taking over from the part before: the same bits as the parts at once.
    const auto one = fit_in_groups(1, true);
    const auto two = fit_in_groups(2, true);
    CHECK(two.elsewhere == 4);
    CHECK(worst_of_largest(one.weights, two.weights) < 1e-6);
    CHECK(two.losses[0] == Approx(one.losses[0]).epsilon(1e-6));
    CHECK(two.weights == fit_in_groups(2, false).weights);
}
