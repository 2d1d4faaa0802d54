// The MPI tests' main: MPI for the whole run, then Catch2 on every process. ctest starts it
// with mpirun on 2 and 3 processes; every test case runs on all of them together.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <xtnn/mpi.hpp>

int main(int argc, char** argv) {
    xtnn::mpi::environment mpi(argc, argv);
    return Catch::Session().run(argc, argv);
}
