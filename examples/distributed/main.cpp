// Data-parallel training over MPI: every process mpirun starts trains a replica on its share of
// each batch; the weights are one process's. docs/distributed.md shows this file; the tests
// run it on 2 processes:
//   OPENBLAS_NUM_THREADS=1 mpirun -np 2 build/dev/examples/distributed/xtnn_example_distributed
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>

#include <xtnn/mpi.hpp> // the optional MPI component: link xtnn::mpi
#include <xtnn/xtnn.hpp>

int main(int argc, char** argv) {
    // [setup]
    xtnn::mpi::environment mpi(argc, argv); // MPI_Init_thread ... MPI_Finalize
    xtnn::mpi::communicator world;          // every process mpirun started
    // [setup]
    try {
        // [fit]
        // Every process has the same data (fit checks it, by a hash).
        const auto train = xtnn::make_two_spirals<float>({.samples_per_class = 1000, .seed = 1});
        xtnn::sequential model{xtnn::dense{2, 64}, xtnn::relu{}, xtnn::dense{64, 64}, xtnn::relu{},
                               xtnn::dense{64, 2}};
        xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                              xtnn::adam({.learning_rate = 3e-3}), xtnn::accuracy{}};
        // Each batch of 64 is split between the processes; only rank 0 shows progress.
        const auto history = trainer.fit(train.features, train.labels,
                                         {.epochs = 60,
                                          .batch_size = 64,
                                          .validation_split = 0.1,
                                          .seed = 7,
                                          .verbose = xtnn::verbosity::silent,
                                          .distributed = &world});
        if (world.rank() == 0) { // every process holds the same model: one writes it
            const auto path = std::filesystem::temp_directory_path() / "xtnn_distributed.npz";
            xtnn::save_weights(model, path);
            std::printf("trained on %zu processes: val_accuracy %.3f; wrote %s\n", world.size(),
                        history["val_accuracy"].back(), path.string().c_str());
        }
        // [fit]
        // [errors]
    } catch (const std::exception& e) {
        if (dynamic_cast<const xtnn::process_failure*>(&e) != nullptr) {
            // fit threw this on every process: rank 0 says it, all end normally.
            if (world.rank() == 0) {
                std::cerr << e.what() << "\n";
            }
            return 1;
        }
        // Only this process failed: end the job, the others would wait for it.
        std::cerr << "rank " << world.rank() << ": " << e.what() << "\n";
        world.abort(1);
    }
    // [errors]
    return 0;
}
