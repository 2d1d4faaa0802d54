// A consumer of xtnn's MPI component: trains data-parallel on the processes it was started with
// (one, run alone), prints a line the test expects.
#include <iostream>

#include <xtnn/mpi.hpp>
#include <xtnn/xtnn.hpp>

int main(int argc, char** argv) {
    xtnn::mpi::environment mpi(argc, argv);
    xtnn::mpi::communicator world;
    xtnn::sequential model{xtnn::dense{2, 8}, xtnn::tanh{}, xtnn::dense{8, 2}};
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.5})};
    const xtnn::tensor<float, 2> x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const xtnn::tensor<int, 1> y = {0, 1, 1, 0};
    const auto history = trainer.fit(
        x, y,
        {.epochs = 3, .batch_size = 4, .verbose = xtnn::verbosity::silent, .distributed = &world});
    if (history.size() != 3) {
        std::cerr << "fit over MPI ran " << history.size() << " epochs, not 3\n";
        return 1;
    }
    std::cout << "xtnn consumer ok (MPI component, " << world.size() << " process)\n";
    return 0;
}
