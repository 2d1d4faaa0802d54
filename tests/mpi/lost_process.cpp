// A process that stops answering under mpirun (SIGSTOP, as a hung or frozen process) is named
// by every other process within the communicator's timeout, as a lost_process_error, and the
// waiting costs no spinning core. Started by ctest with mpirun on 2 and 3 processes; prints
// "FAIL" if a check fails (the job then ends through MPI_Abort, as a lost process requires).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <sys/resource.h>

#include <xtnn/mpi.hpp>
#include <xtnn/xtnn.hpp>

namespace {

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
    xtnn::mpi::environment mpi(argc, argv);
    xtnn::mpi::communicator world(MPI_COMM_WORLD, std::chrono::seconds(3));
    const std::size_t stopped = world.size() - 1;
    const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 200, .seed = 1});
    xtnn::sequential model{xtnn::dense{2, 16}, xtnn::relu{}, xtnn::dense{16, 2}};
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::adam<float>{}};
    std::chrono::steady_clock::time_point since;
    double cpu_since = 0;
    auto freeze = xtnn::lambda_callback(xtnn::hook::batch_end, [&](auto& state) {
        if (state.epoch == 0 && state.batch == 3) {
            if (world.rank() == stopped) {
                std::raise(SIGSTOP); // frozen: it never answers again
            }
            since = std::chrono::steady_clock::now();
            cpu_since = cpu_seconds();
        }
    });
    try {
        trainer.fit(data.features, data.labels,
                    {.epochs = 5,
                     .batch_size = 16,
                     .verbose = xtnn::verbosity::silent,
                     .distributed = &world},
                    freeze);
        std::printf("FAIL: rank %zu: fit finished without rank %zu\n", world.rank(), stopped);
        return 1;
    } catch (const xtnn::mpi::lost_process_error& e) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
        const double cpu = cpu_seconds() - cpu_since;
        std::printf("rank %zu: %s\nrank %zu: lost rank %zu after %.1f s, %.2f s of CPU\n",
                    world.rank(), e.what(), world.rank(), e.lost().empty() ? 99 : e.lost()[0],
                    seconds, cpu);
        if (e.lost() != std::vector<std::size_t>{stopped}) {
            std::printf("FAIL: rank %zu named other ranks than %zu\n", world.rank(), stopped);
        }
        if (seconds > 3.0 + 3.0) {
            std::printf("FAIL: rank %zu took %.1f s for a 3 s timeout\n", world.rank(), seconds);
        }
        if (cpu > 0.5 * seconds) {
            std::printf("FAIL: rank %zu spun while waiting (%.2f s of CPU in %.1f s)\n",
                        world.rank(), cpu, seconds);
        }
        std::fflush(stdout);
    }
    return 0; // the environment ends the job: MPI cannot finish without the lost process
}
