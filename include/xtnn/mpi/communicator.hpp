/// @file
/// xtnn::mpi::communicator: the process_group of an MPI communicator, for data-parallel fit.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/model/process_group.hpp>
#include <xtnn/mpi/c_api.hpp>
#include <xtnn/mpi/environment.hpp>

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

/// A process of the job stopped answering: it did not reach an exchange (a sum, a gather, a
/// broadcast) within the communicator's timeout while the others waited there (stopped with
/// SIGSTOP, hung, or on a machine that went away). Every process that waited throws it, naming
/// the same ranks. The job cannot go on: MPI cannot take back the exchange, so
/// xtnn::mpi::environment ends the job (MPI_Abort) when it is destroyed, rather than waiting in
/// MPI_Finalize for the lost process.
/// @ingroup mpi
class lost_process_error : public std::runtime_error {
  public:
    /// The error of `lost` ranks of `size`, found while doing `what`.
    lost_process_error(const std::string& message, std::vector<std::size_t> lost)
        : std::runtime_error(message), lost_(std::move(lost)) {}
    /// The ranks that did not answer.
    const std::vector<std::size_t>& lost() const { return lost_; }

  private:
    std::vector<std::size_t> lost_;
};

/// An MPI communicator as the process_group of a data-parallel fit: MPI_COMM_WORLD (every
/// process mpirun started) or any communicator, duplicated so that fit's messages never meet
/// the program's own.
///
/// Sums are MPI_Allreduce (Open MPI's tuned collectives choose an algorithm from the
/// number of processes and the message size, each with a fixed order of additions: the same
/// bits on every process and in every run with the same processes; fit checks the replicas
/// are equal after every epoch). MPI's errors end the job (MPI_ERRORS_ARE_FATAL, the
/// default), so no process waits for another that failed inside MPI. A process that stops
/// answering (stopped, hung) is named within timeout() by a lost_process_error on every other
/// process: exchanges are MPI's non-blocking collectives, waited for with a deadline, and a
/// process that waits longer than a second tells the others it is there, so the silent one is
/// known. Waiting, a process sleeps between checks after the first 10 ms: no core spins at
/// 100% for a lost process.
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

    /// The processes of `comm` (duplicated), with `timeout` for a process to reach an exchange.
    /// @throws std::logic_error if MPI is not started; config_error for a timeout under 1 s.
    explicit communicator(MPI_Comm comm,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        set_timeout(timeout);
        int started = 0;
        MPI_Initialized(&started);
        if (started == 0) {
            throw std::logic_error("xtnn::mpi::communicator: MPI is not started; make an "
                                   "xtnn::mpi::environment first");
        }
        MPI_Comm_dup(comm, &comm_);
        MPI_Comm_dup(comm, &probes_);
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
        if (finished == 0 && !detail::process_lost) {
            MPI_Comm_free(&comm_);
            MPI_Comm_free(&probes_);
        }
    }

    /// How long a process waits at an exchange for the others before it throws
    /// lost_process_error (default 30 s: longer than any step or save of fit should take).
    std::chrono::milliseconds timeout() const { return timeout_; }
    /// Sets timeout().
    /// @throws config_error under 1 s (a busy machine delays a process that long).
    void set_timeout(std::chrono::milliseconds timeout) {
        xtnn::detail::require_option(timeout >= std::chrono::seconds(1), "xtnn::mpi::communicator",
                                     "timeout", ">= 1 s",
                                     static_cast<double>(timeout.count()) / 1000);
        timeout_ = timeout;
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
        MPI_Request request = MPI_REQUEST_NULL;
        MPI_Iallgatherv(mine.data(), counts_[rank_], MPI_BYTE, all.data(), counts_.data(),
                        offsets_.data(), MPI_BYTE, comm_, &request);
        wait(request, "gathering");
        ++traffic_.gathers;
        traffic_.seconds_gathering += seconds_since(start);
    }

    void broadcast(std::span<std::byte> bytes, std::size_t root) override {
        for (std::size_t first = 0; first < bytes.size(); first += chunk) {
            const std::size_t n = std::min(chunk, bytes.size() - first);
            MPI_Request request = MPI_REQUEST_NULL;
            MPI_Ibcast(bytes.data() + first, static_cast<int>(n), MPI_BYTE, static_cast<int>(root),
                       comm_, &request);
            wait(request, "broadcasting");
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
            MPI_Request request = MPI_REQUEST_NULL;
            MPI_Iallreduce(MPI_IN_PLACE, values.data() + first, static_cast<int>(n), type, MPI_SUM,
                           comm_, &request);
            wait(request, "summing");
        }
        ++traffic_.sums;
        traffic_.bytes_summed += values.size_bytes();
        traffic_.seconds_summing += seconds_since(start);
    }

    /// Waits for the exchange `request` until the deadline. After a second a process sends every
    /// other one a probe tagged with the exchange's number (on a communicator of its own) and
    /// listens for theirs: those still silent at the deadline are lost.
    void wait(MPI_Request& request, const char* doing) {
        using clock = std::chrono::steady_clock;
        const auto start = clock::now();
        const int tag = static_cast<int>(exchanges_++ % 30000);
        std::vector<MPI_Request> sent, heard;
        std::vector<std::uint64_t> received;
        const std::uint64_t here = rank_;
        for (;;) {
            int done = 0;
            MPI_Test(&request, &done, MPI_STATUS_IGNORE);
            if (done != 0) {
                break;
            }
            const auto waited = clock::now() - start;
            if (waited > std::chrono::milliseconds(10)) {
                std::this_thread::sleep_for(std::chrono::microseconds(500));
            }
            if (heard.empty() && waited > std::chrono::seconds(1) && size_ > 1) {
                sent.assign(size_, MPI_REQUEST_NULL);
                heard.assign(size_, MPI_REQUEST_NULL);
                received.assign(size_, 0);
                for (std::size_t r = 0; r < size_; ++r) {
                    if (r != rank_) {
                        const int peer = static_cast<int>(r);
                        MPI_Isend(&here, 1, MPI_UINT64_T, peer, tag, probes_, &sent[r]);
                        MPI_Irecv(&received[r], 1, MPI_UINT64_T, peer, tag, probes_, &heard[r]);
                    }
                }
            }
            if (waited > timeout_) {
                std::vector<std::size_t> lost;
                std::string names;
                for (std::size_t r = 0; r < size_; ++r) {
                    int arrived = 1;
                    if (r != rank_) {
                        MPI_Test(&heard[r], &arrived, MPI_STATUS_IGNORE);
                    }
                    if (arrived == 0) {
                        lost.push_back(r);
                        if (!names.empty()) {
                            names += ", ";
                        }
                        names += std::to_string(r);
                    }
                }
                detail::process_lost = true;
                throw lost_process_error(
                    "xtnn::mpi: rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                        " waited " + std::to_string(timeout_.count() / 1000) + " s while " + doing +
                        " for rank" + (lost.size() == 1 ? " " : "s ") +
                        (names.empty() ? std::string("(unknown)") : names) +
                        ", which stopped answering (stopped, hung or gone); the job ends",
                    lost);
            }
        }
        // The exchange completed: the probes are not needed.
        for (std::size_t r = 0; r < heard.size(); ++r) {
            if (heard[r] != MPI_REQUEST_NULL) {
                MPI_Cancel(&heard[r]);
                MPI_Wait(&heard[r], MPI_STATUS_IGNORE);
            }
            if (sent[r] != MPI_REQUEST_NULL) {
                MPI_Request_free(&sent[r]);
            }
        }
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
    MPI_Comm probes_ = MPI_COMM_NULL; // the probes of wait(), apart from fit's exchanges
    std::chrono::milliseconds timeout_{30000};
    std::uint64_t exchanges_ = 0;
    std::size_t rank_ = 0;
    std::size_t size_ = 1;
    traffic traffic_;
    std::vector<int> counts_;
    std::vector<int> offsets_;
};

} // namespace xtnn::mpi
