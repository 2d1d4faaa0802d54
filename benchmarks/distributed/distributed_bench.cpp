// Data-parallel training's speed: samples per second of fit on the processes mpirun started
// (1 BLAS thread each), the time each step spends summing gradients, and the bytes it sums.
// benchmarks/distributed.sh runs it on 1 and 2 processes and prints the speed-ups:
//   mpirun -np 2 build/bench/benchmarks/xtnn_bench_distributed --model cnn --batch 256
// Rank 0 prints one line per run: model, batch, processes, samples/s, ms per step, ms per step
// in the gradients' sums and in the gathers (the outputs, the agreements), bytes summed per
// step (per process). Time in an exchange includes waiting for the slower process.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include <xtnn/mpi.hpp>
#include <xtnn/xtnn.hpp>

#include "support/fill.hpp"
#include "support/models.hpp"

namespace {

auto mlp() {
    return xtnn::sequential{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
                            xtnn::dense{128, 10}};
}

template <class Model, class X, class Y>
void time_fit(Model& model, const X& x, const Y& y, const std::string& name, std::size_t batch,
              std::size_t steps, xtnn::mpi::communicator& world) {
    const std::size_t n = x.shape()[0];
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam{}, xtnn::accuracy{}};
    xtnn::fit_options options{.epochs = 1,
                              .batch_size = batch,
                              .verbose = xtnn::verbosity::silent,
                              .distributed = &world};
    trainer.fit(x, y, options); // warm-up: buffers, optimizer state, MPI's connections
    world.reset_traffic();
    options.epochs = 2;
    options.initial_epoch = 1;
    const auto start = std::chrono::steady_clock::now();
    trainer.fit(x, y, options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& moved = world.moved();
    if (world.rank() == 0) {
        std::printf("model=%s batch=%zu processes=%zu samples_per_s=%.0f step_ms=%.2f "
                    "sum_ms_per_step=%.3f gather_ms_per_step=%.3f bytes_summed_per_step=%zu\n",
                    name.c_str(), batch, world.size(), static_cast<double>(n) / seconds,
                    1e3 * seconds / static_cast<double>(steps),
                    1e3 * moved.seconds_summing / static_cast<double>(steps),
                    1e3 * moved.seconds_gathering / static_cast<double>(steps),
                    moved.bytes_summed / steps);
        std::fflush(stdout);
    }
}

template <class Model>
void run(Model model, const std::string& name, std::size_t batch, std::size_t steps,
         xtnn::mpi::communicator& world) {
    // MNIST-shaped digits: uniform noise and seeded labels (the speed does not depend on them).
    const std::size_t n = batch * steps;
    const auto flat = xtnn::bench::filled(n, 784, 0.0f, 1.0f);
    const auto y = xtnn::bench::labels(n);
    if constexpr (Model::input_rank == 2) {
        time_fit(model, flat, y, name, batch, steps, world);
    } else {
        auto images = xtnn::tensor<float, 4>::from_shape({n, 1, 28, 28});
        std::copy(flat.begin(), flat.end(), images.begin());
        time_fit(model, images, y, name, batch, steps, world);
    }
}
} // namespace

int main(int argc, char** argv) {
    xtnn::mpi::environment mpi(argc, argv);
    CLI::App app{"xtnn data-parallel training speed"};
    std::string model = "cnn";
    std::size_t batch = 256;
    std::size_t steps = 0;
    app.add_option("--model", model, "mlp or cnn")->check(CLI::IsMember({"mlp", "cnn"}));
    app.add_option("--batch", batch, "Global batch size (split between the processes)");
    app.add_option("--steps", steps, "Timed steps (default: 400 for the MLP, 40 for the CNN)");
    CLI11_PARSE(app, argc, argv);
    if (steps == 0) {
        steps = model == "mlp" ? 400 : 40;
    }
    xtnn::mpi::communicator world;
    if (model == "mlp") {
        run(mlp(), model, batch, steps, world);
    } else {
        run(xtnn::bench::keras_convnet(), model, batch, steps, world);
    }
    return 0;
}
