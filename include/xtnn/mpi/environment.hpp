/// @file
/// xtnn::mpi::environment: MPI's start and end for a program, and launched().
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include <xtnn/mpi/c_api.hpp>

namespace xtnn::mpi {

/// @defgroup mpi MPI
/// Data-parallel training on several processes (`xtnn::mpi`, Open MPI).

namespace detail {
/// Set when a communicator lost a process (lost_process_error): the job must end with
/// MPI_Abort, not MPI_Finalize, which would wait for the lost process.
inline std::atomic<bool> process_lost{false};
} // namespace detail

/// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun): Open MPI's,
/// PMIx's or PMI's variables are set. A program that also runs alone can start MPI only
/// then: a process that starts MPI by itself (a "singleton") takes about 0.4 s to do it.
/// @ingroup mpi
inline bool launched() {
    for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
        if (std::getenv(variable) != nullptr) {
            return true;
        }
    }
    return false;
}

/// Starts MPI for the program's lifetime (MPI_Init_thread, funneled: MPI is called from the
/// thread that calls fit) and ends it (MPI_Finalize) when destroyed; does neither if MPI was
/// started already.
///
/// An exception that leaves main (std::terminate) ends the whole job (MPI_Abort) after
/// printing its message, so that no process waits forever for one that died: the other
/// processes would otherwise hang in their next exchange. An error that fit throws on every
/// process (xtnn::process_failure) may be caught and the program end normally.
/// @code
/// int main(int argc, char** argv) {
///     xtnn::mpi::environment mpi(argc, argv);
///     xtnn::mpi::communicator world;
///     // … trainer.fit(x, y, {.epochs = 5, .batch_size = 256, .distributed = &world});
/// }
/// @endcode
/// @ingroup mpi
class environment {
  public:
    /// Starts MPI with the program's arguments.
    /// @throws std::runtime_error if MPI cannot give funneled threading.
    environment(int& argc, char**& argv) { start(&argc, &argv); }
    /// Starts MPI without the program's arguments (for a library or a test that does not
    /// own main).
    environment() { start(nullptr, nullptr); }
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    /// Ends MPI if this object started it.
    ~environment() {
        std::set_terminate(previous_);
        int finished = 0;
        MPI_Finalized(&finished);
        if (owner_ && finished == 0) {
            if (detail::process_lost) { // MPI_Finalize would wait for it forever
                std::fprintf(stderr, "xtnn::mpi: a process was lost; this one ends the job\n");
                std::fflush(stderr);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            MPI_Finalize();
        }
    }

  private:
    void start(int* argc, char*** argv) {
        int started = 0;
        MPI_Initialized(&started);
        if (started == 0) {
            int provided = 0;
            MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
            owner_ = true;
            if (provided < MPI_THREAD_FUNNELED) {
                MPI_Finalize();
                owner_ = false;
                throw std::runtime_error("xtnn::mpi::environment: this MPI library does not "
                                         "support MPI_THREAD_FUNNELED");
            }
        }
        previous_ = std::set_terminate(&abort_job);
    }

    /// std::terminate's handler: prints the exception in flight and ends every process.
    [[noreturn]] static void abort_job() {
        int finished = 0;
        MPI_Finalized(&finished);
        if (finished != 0) {
            std::abort();
        }
        int rank = 0;
        int size = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        const auto say = [&](const char* what) {
            std::fprintf(stderr, "xtnn::mpi: rank %d of %d ends the job: %s\n", rank, size, what);
            std::fflush(stderr);
        };
        if (const auto e = std::current_exception()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                say(x.what());
            } catch (...) {
                say("an exception that is not a std::exception");
            }
        } else {
            say("std::terminate without an exception");
        }
        MPI_Abort(MPI_COMM_WORLD, 1);
        std::abort();
    }

    bool owner_ = false;
    std::terminate_handler previous_ = nullptr;
};

} // namespace xtnn::mpi
