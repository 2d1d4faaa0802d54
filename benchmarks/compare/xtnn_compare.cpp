// The xtnn side of benchmarks/compare: trains the MNIST MLP (784-128-10, relu, Adam 1e-3,
// softmax cross-entropy), or with --model cnn the Keras convnet (conv 32 3x3, relu, max-pool 2,
// conv 64 3x3, relu, max-pool 2, flatten, dropout 0.5, dense 10) on the same samples as
// (N, 1, 28, 28) images, for one epoch on the data in --data (its first --train-samples), and
// measures inference, printing one line of key=value pairs per measurement for compare.py.
// With --model resnet18, torchvision's resnet18 (tests/onnx/torchvision_models.hpp, the type
// whose ONNX export the torchvision tests load and match) on seeded images: SGD training
// steps (momentum 0.9) at batch 8 on 64 x 64, and inference at batch 1 and 8 on 64 x 64 and
// 224 x 224 (--data is not read).
//
//   xtnn_compare --data DIR --batch 32 --repeats 3 [--model cnn --train-samples 6000]
//   xtnn_compare --model resnet18 --repeats 3
//
// DIR holds images.idx (float32, (N, 784)) and labels.idx (int32, (N)), written by
// `xtnn_compare --make-data DIR` so that PyTorch reads the very same values. The BLAS thread
// count is OpenBLAS's: set OPENBLAS_NUM_THREADS.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <xtnn/xtnn.hpp>

#include "onnx/torchvision_models.hpp"

extern "C" int openblas_get_num_threads(void);
extern "C" char* openblas_get_config(void);
extern "C" char* openblas_get_corename(void);

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

void make_data(const std::filesystem::path& dir, std::size_t samples) {
    xtnn::tensor<float, 2> x(xtnn::shape<2>{samples, 784});
    xtnn::tensor<std::int32_t, 1> y(xtnn::shape<1>{samples});
    xtnn::random_engine rng(2026);
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    for (auto& v : y) {
        v = static_cast<std::int32_t>(rng.below(10));
    }
    std::filesystem::create_directories(dir);
    xtnn::write_idx(dir / "images.idx", x);
    xtnn::write_idx(dir / "labels.idx", y);
}

auto make_mlp(std::uint64_t seed) {
    xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dense{128, 10}};
    model.initialize(seed);
    return model;
}

auto make_cnn(std::uint64_t seed) {
    xtnn::sequential model{xtnn::conv2d{1, 32, 3},  xtnn::relu{},       xtnn::max_pool2d{},
                           xtnn::conv2d{32, 64, 3}, xtnn::relu{},       xtnn::max_pool2d{},
                           xtnn::flatten{},         xtnn::dropout{0.5}, xtnn::dense{1600, 10}};
    model.initialize(seed);
    return model;
}

struct run_options {
    std::size_t batch, repeats, latency_calls;
};

// Trains one epoch per repeat (a fresh model each time), then times inference in batches of
// 1000 and one sample at a time; prints the three lines.
template <class MakeModel, class X>
int measure(MakeModel make_model, const X& x, const xtnn::tensor<std::int32_t, 1>& labels,
            const run_options& o) {
    const int threads = openblas_get_num_threads();
    const std::size_t n = x.shape(0);
    std::vector<double> epochs;
    for (std::size_t r = 0; r < o.repeats; ++r) {
        auto model = make_model(r);
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                              xtnn::adam({.learning_rate = 1e-3})};
        const auto start = clock_type::now();
        trainer.fit(
            x, labels,
            {.epochs = 1, .batch_size = o.batch, .seed = r, .verbose = xtnn::verbosity::silent});
        epochs.push_back(seconds_since(start));
    }
    std::printf("library=xtnn task=train batch=%zu threads=%d samples_per_s=%.1f "
                "seconds=%.4f\n",
                o.batch, threads, static_cast<double>(n) / median(epochs), median(epochs));

    auto model = make_model(0);
    std::vector<double> passes;
    for (std::size_t r = 0; r < o.repeats; ++r) {
        const auto start = clock_type::now();
        const auto out = xtnn::predict(model, x, 1000);
        passes.push_back(seconds_since(start));
        if (out.shape(0) != n) {
            return 1;
        }
    }
    std::printf("library=xtnn task=infer batch=1000 threads=%d samples_per_s=%.1f\n", threads,
                static_cast<double>(n) / median(passes));

    auto one_shape = x.shape();
    one_shape[0] = 1;
    X one(one_shape);
    const std::size_t size = one.size();
    std::vector<double> calls;
    calls.reserve(o.latency_calls);
    float sink = 0;
    for (std::size_t i = 0; i < o.latency_calls; ++i) {
        std::copy_n(x.data() + (i % n) * size, size, one.data());
        const auto start = clock_type::now();
        const auto& y = model.forward(one, xtnn::mode::inference);
        sink += y(0, 0);
        calls.push_back(seconds_since(start));
    }
    std::printf("library=xtnn task=latency batch=1 threads=%d microseconds=%.2f check=%g\n",
                threads, 1e6 * median(calls), static_cast<double>(sink));
    return 0;
}

// Seeded images (batch, 3, side, side) in [0, 1).
xtnn::tensor<float, 4> seeded_images(std::size_t batch, std::size_t side) {
    xtnn::tensor<float, 4> x(xtnn::shape<4>{batch, 3, side, side});
    xtnn::random_engine rng(2026);
    for (auto& v : x) {
        v = rng.uniform(0.0f, 1.0f);
    }
    return x;
}

// The median over `repeats` runs of `steps` calls of `f`, in seconds per call, after one
// untimed call.
template <class F>
double seconds_per_call(std::size_t repeats, std::size_t steps, F f) {
    f();
    std::vector<double> runs;
    for (std::size_t r = 0; r < repeats; ++r) {
        const auto start = clock_type::now();
        for (std::size_t i = 0; i < steps; ++i) {
            f();
        }
        runs.push_back(seconds_since(start) / static_cast<double>(steps));
    }
    return median(runs);
}

// resnet18: training steps at batch 8 on 64 x 64, inference at batch 1 and 8 on 64 x 64 and
// 224 x 224; one line each.
int measure_resnet18(std::size_t repeats) {
    const int threads = openblas_get_num_threads();
    {
        auto model = xtnn::test::torchvision::resnet18();
        const std::size_t batch = 8;
        const auto x = seeded_images(batch, 64);
        xtnn::tensor<std::int32_t, 1> labels(xtnn::shape<1>{batch});
        for (std::size_t i = 0; i < batch; ++i) {
            labels(i) = static_cast<std::int32_t>(i * 127 % 1000);
        }
        auto params = model.parameters();
        xtnn::sgd optimizer({.learning_rate = 0.01, .momentum = 0.9});
        const xtnn::softmax_cross_entropy loss;
        xtnn::tensor<float, 2> dy;
        const double seconds = seconds_per_call(repeats, 5, [&] {
            const auto& logits = model.forward(x, xtnn::mode::training);
            loss.value_and_gradient(logits, labels, dy);
            model.backward(x, dy);
            optimizer.step(params);
        });
        std::printf("library=xtnn task=train batch=%zu side=64 threads=%d samples_per_s=%.2f\n",
                    batch, threads, static_cast<double>(batch) / seconds);
    }
    auto model = xtnn::test::torchvision::resnet18();
    for (const std::size_t side : {std::size_t{64}, std::size_t{224}}) {
        for (const std::size_t batch : {std::size_t{1}, std::size_t{8}}) {
            const auto x = seeded_images(batch, side);
            float sink = 0;
            const double seconds = seconds_per_call(repeats, side == 64 ? 10 : 3, [&] {
                sink += model.forward(x, xtnn::mode::inference)(0, 0);
            });
            std::printf("library=xtnn task=infer batch=%zu side=%zu threads=%d "
                        "samples_per_s=%.2f check=%g\n",
                        batch, side, threads, static_cast<double>(batch) / seconds,
                        static_cast<double>(sink));
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"xtnn's side of the PyTorch comparison (benchmarks/compare)"};
    std::filesystem::path data;
    std::filesystem::path make;
    std::size_t samples = 60000, batch = 32, repeats = 3, latency_calls = 20000;
    std::size_t train_samples = 0;
    std::string model_name = "mlp";
    app.add_option("--data", data, "Directory with images.idx and labels.idx");
    app.add_option("--make-data", make, "Write seeded MNIST-shaped data into this directory");
    app.add_option("--samples", samples, "Samples to make with --make-data")->capture_default_str();
    app.add_option("--batch", batch, "Training batch size")->capture_default_str();
    app.add_option("--repeats", repeats, "Epochs timed (the median is reported)")
        ->capture_default_str();
    app.add_option("--latency-calls", latency_calls, "Single-sample predictions timed")
        ->capture_default_str();
    app.add_option("--model", model_name, "mlp, cnn or resnet18")
        ->check(CLI::IsMember({"mlp", "cnn", "resnet18"}))
        ->capture_default_str();
    app.add_option("--train-samples", train_samples, "Use the first N samples of the data (0: all)")
        ->capture_default_str();
    bool info = false;
    app.add_flag("--info", info, "Print OpenBLAS's configuration and kernel, then exit");
    CLI11_PARSE(app, argc, argv);
    if (info) {
        std::printf("openblas_config=%s\nopenblas_corename=%s\n", openblas_get_config(),
                    openblas_get_corename());
        return 0;
    }

    try {
        if (model_name == "resnet18") {
            return measure_resnet18(repeats);
        }
        if (!make.empty()) {
            make_data(make, samples);
            std::printf("wrote %zu samples to %s\n", samples, make.string().c_str());
            return 0;
        }
        auto x = xtnn::read_idx<float, 2>(data / "images.idx");
        auto labels = xtnn::read_idx<std::int32_t, 1>(data / "labels.idx");
        if (train_samples > 0 && train_samples < x.shape(0)) {
            xtnn::tensor<float, 2> head(xtnn::shape<2>{train_samples, 784});
            std::copy_n(x.data(), head.size(), head.data());
            xtnn::tensor<std::int32_t, 1> head_labels(xtnn::shape<1>{train_samples});
            std::copy_n(labels.data(), train_samples, head_labels.data());
            x = std::move(head);
            labels = std::move(head_labels);
        }
        const run_options o{batch, repeats, latency_calls};
        if (model_name == "cnn") {
            xtnn::tensor<float, 4> images(xtnn::shape<4>{x.shape(0), 1, 28, 28});
            std::copy_n(x.data(), x.size(), images.data());
            return measure(make_cnn, images, labels, o);
        }
        return measure(make_mlp, x, labels, o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "xtnn_compare: %s\n", e.what());
        return 1;
    }
    return 0;
}
