/// @file
/// xtnn::mpi::communicator: the process_group of an MPI communicator, for data-parallel fit.
#pragma once

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/model/process_group.hpp>
#include <xtnn/mpi/c_api.hpp>

namespace xtnn::mpi {

/// What a communicator has moved since it was made (or reset): for benchmarks and logs.
/// @ingroup mpi
struct traffic {
    std::size_t sums = 0;         ///< Calls of sum() (one per parameter per step in fit).
    std::size_t bytes_summed = 0; ///< Bytes summed by this process (its buffers' sizes).
    double seconds_summing = 0;   ///< Wall time inside sum(), waiting for others included.
    std::size_t gathers = 0;      ///< Calls of all_gather() (two or three per step in fit).
    double seconds_gathering = 0; ///< Wall time inside all_gather().
    std::size_t broadcasts = 0;   ///< Calls of broadcast().
};

/// An MPI communicator as the process_group of a data-parallel fit: MPI_COMM_WORLD (every
/// process mpirun started) or any communicator, duplicated so that fit's messages never meet
/// the program's own.
///
/// Sums are MPI_Allreduce (Open MPI's tuned collectives choose an algorithm from the
/// number of processes and the message size, each with a fixed order of additions: the same
/// bits on every process and in every run with the same processes; fit checks the replicas
/// are equal after every epoch). MPI's errors end the job (MPI_ERRORS_ARE_FATAL, the
/// default), so no process waits for another that failed inside MPI.
/// @code
/// xtnn::mpi::environment mpi(argc, argv);
/// xtnn::mpi::communicator world;
/// auto history = trainer.fit(x, y, {.epochs = 5, .batch_size = 256, .distributed = &world});
/// if (world.rank() == 0) xtnn::save_weights(model, "model.npz");
/// @endcode
/// @ingroup mpi
class communicator final : public process_group {
  public:
    /// Every process of the job (a duplicate of MPI_COMM_WORLD). MPI must be started
    /// (xtnn::mpi::environment).
    /// @throws std::logic_error if MPI is not started.
    communicator() : communicator(MPI_COMM_WORLD) {}

    /// The processes of `comm` (duplicated).
    /// @throws std::logic_error if MPI is not started.
    explicit communicator(MPI_Comm comm) {
        int started = 0;
        MPI_Initialized(&started);
        if (started == 0) {
            throw std::logic_error("xtnn::mpi::communicator: MPI is not started; make an "
                                   "xtnn::mpi::environment first");
        }
        MPI_Comm_dup(comm, &comm_);
        int rank = 0;
        int size = 0;
        MPI_Comm_rank(comm_, &rank);
        MPI_Comm_size(comm_, &size);
        rank_ = static_cast<std::size_t>(rank);
        size_ = static_cast<std::size_t>(size);
    }
    communicator(const communicator&) = delete;
    communicator& operator=(const communicator&) = delete;
    ~communicator() override {
        int finished = 0;
        MPI_Finalized(&finished);
        if (finished == 0) {
            MPI_Comm_free(&comm_);
        }
    }

    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return size_; }

    void sum(std::span<float> values) override { reduce(values, MPI_FLOAT); }
    void sum(std::span<double> values) override { reduce(values, MPI_DOUBLE); }

    void all_gather(std::span<const std::byte> mine, std::span<std::byte> all,
                    std::span<const std::size_t> counts) override {
        const auto start = std::chrono::steady_clock::now();
        counts_.resize(size_);
        offsets_.resize(size_);
        std::size_t at = 0;
        for (std::size_t r = 0; r < size_; ++r) {
            counts_[r] = to_int(counts[r], "all_gather");
            offsets_[r] = to_int(at, "all_gather");
            at += counts[r];
        }
        if (at != all.size() || mine.size() != counts[rank_]) {
            throw shape_error("xtnn::mpi::communicator::all_gather: the counts do not fit the "
                              "buffers");
        }
        MPI_Allgatherv(mine.data(), counts_[rank_], MPI_BYTE, all.data(), counts_.data(),
                       offsets_.data(), MPI_BYTE, comm_);
        ++traffic_.gathers;
        traffic_.seconds_gathering += seconds_since(start);
    }

    void broadcast(std::span<std::byte> bytes, std::size_t root) override {
        for (std::size_t first = 0; first < bytes.size(); first += chunk) {
            const std::size_t n = std::min(chunk, bytes.size() - first);
            MPI_Bcast(bytes.data() + first, static_cast<int>(n), MPI_BYTE, static_cast<int>(root),
                      comm_);
        }
        ++traffic_.broadcasts;
    }

    /// Ends every process of the job with `code` (MPI_Abort).
    [[noreturn]] void abort(int code) const {
        MPI_Abort(comm_, code);
        std::abort();
    }

    /// The duplicated MPI communicator.
    MPI_Comm native() const { return comm_; }

    /// What this communicator has moved since it was made or reset_traffic().
    const traffic& moved() const { return traffic_; }
    /// Starts counting traffic from zero.
    void reset_traffic() { traffic_ = {}; }

  private:
    /// MPI counts are int: larger buffers go in pieces of at most 2^30 values.
    static constexpr std::size_t chunk = std::size_t{1} << 30;

    template <class T>
    void reduce(std::span<T> values, MPI_Datatype type) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < values.size(); first += chunk) {
            const std::size_t n = std::min(chunk, values.size() - first);
            MPI_Allreduce(MPI_IN_PLACE, values.data() + first, static_cast<int>(n), type, MPI_SUM,
                          comm_);
        }
        ++traffic_.sums;
        traffic_.bytes_summed += values.size_bytes();
        traffic_.seconds_summing += seconds_since(start);
    }

    static int to_int(std::size_t n, const char* where) {
        if (n > static_cast<std::size_t>(INT_MAX)) {
            throw shape_error(std::string("xtnn::mpi::communicator::") + where + ": " +
                              std::to_string(n) + " bytes are more than MPI's int counts hold");
        }
        return static_cast<int>(n);
    }

    static double seconds_since(std::chrono::steady_clock::time_point start) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    std::size_t rank_ = 0;
    std::size_t size_ = 1;
    traffic traffic_;
    std::vector<int> counts_;
    std::vector<int> offsets_;
};

} // namespace xtnn::mpi
