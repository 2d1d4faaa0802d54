/// @file
/// process_group: the processes a data-parallel fit runs on, and the error every one of them
/// throws when one fails.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace xtnn {

/// The processes of a data-parallel fit and the collective operations it needs from them.
///
/// Give one to fit (`fit_options::distributed`) and every process trains a replica of the
/// model on its share of each batch, with the same result as one process (see fit). xtnn's
/// MPI component implements it (xtnn::mpi::communicator, `<xtnn/mpi.hpp>`); the core needs no
/// MPI. Every process must call each operation in the same order with the same sizes, as MPI's
/// collectives; an implementation reports its own failures by ending the job (MPI's default),
/// never by returning on some processes only.
/// @ingroup model
class process_group {
  public:
    virtual ~process_group() = default;

    /// This process's index, 0 to size() - 1.
    virtual std::size_t rank() const = 0;
    /// The number of processes.
    virtual std::size_t size() const = 0;

    /// Replaces `values` by their elementwise sum over every process. Every process receives
    /// the same bits.
    virtual void sum(std::span<float> values) = 0;
    /// Replaces `values` by their elementwise sum over every process (doubles).
    virtual void sum(std::span<double> values) = 0;
    /// Concatenates every process's bytes in rank order: `counts[r]` bytes from rank r (every
    /// process passes the same counts; `mine.size() == counts[rank()]`) into `all`, of their
    /// sum.
    virtual void all_gather(std::span<const std::byte> mine, std::span<std::byte> all,
                            std::span<const std::size_t> counts) = 0;
    /// Copies `root`'s bytes into every process's `bytes` (the same size everywhere).
    virtual void broadcast(std::span<std::byte> bytes, std::size_t root) = 0;

  protected:
    process_group() = default;                                ///< For implementations.
    process_group(const process_group&) = default;            ///< For implementations.
    process_group& operator=(const process_group&) = default; ///< For implementations.
};

/// What a data-parallel fit adds to the error it throws on every process when one process
/// failed (a NaN loss, a shape error, a file a callback could not write): which process failed
/// first. The error keeps the failed one's type (shape_error, config_error, io_error,
/// numeric_error, std::out_of_range, else std::runtime_error) and its message after
/// "rank R of P: ". Catch the usual types; `dynamic_cast<const xtnn::process_failure*>(&e)`
/// tells an error every process threw (end normally: they all stop) from one only this
/// process met (elsewhere the others may wait for it: end the job, as xtnn::mpi::environment
/// does for an uncaught exception).
/// @ingroup model
struct process_failure {
    std::size_t failed_rank = 0; ///< The first process that failed.
    std::size_t processes = 0;   ///< How many processes trained.

  protected:
    /// Made by the error fit throws: rank `rank` of `size` failed first.
    process_failure(std::size_t rank, std::size_t size) : failed_rank(rank), processes(size) {}
    ~process_failure() = default;                                 ///< Not deleted through.
    process_failure(const process_failure&) = default;            ///< Copied with the error.
    process_failure& operator=(const process_failure&) = default; ///< Copied with the error.
};

} // namespace xtnn
