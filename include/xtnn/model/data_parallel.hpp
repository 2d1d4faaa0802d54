/// @file
/// What fit does on several processes (fit_options::distributed): the shards of a batch, the
/// exchanges that keep the replicas equal, and one error on every process when one fails.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/model/callbacks/callback.hpp>
#include <xtnn/model/fit_loop.hpp>
#include <xtnn/model/process_group.hpp>

namespace xtnn::detail {

/// The error a data-parallel fit throws on every process: the failed one's type, with
/// process_failure.
template <class E>
class raised_everywhere final : public E, public process_failure {
  public:
    raised_everywhere(const std::string& message, std::size_t rank, std::size_t size)
        : E(message), process_failure(rank, size) {}
};

/// The types an error keeps when it travels to the other processes.
enum class error_kind : std::uint64_t {
    runtime,
    shape,
    config,
    io,
    numeric,
    out_of_range,
    invalid_argument
};

/// The kind and message of a caught exception.
inline std::pair<error_kind, std::string> describe_error(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const shape_error& x) {
        return {error_kind::shape, x.what()};
    } catch (const config_error& x) {
        return {error_kind::config, x.what()};
    } catch (const io_error& x) {
        return {error_kind::io, x.what()};
    } catch (const numeric_error& x) {
        return {error_kind::numeric, x.what()};
    } catch (const std::out_of_range& x) {
        return {error_kind::out_of_range, x.what()};
    } catch (const std::invalid_argument& x) {
        return {error_kind::invalid_argument, x.what()};
    } catch (const std::exception& x) {
        return {error_kind::runtime, x.what()};
    } catch (...) {
        return {error_kind::runtime, "an exception that is not a std::exception"};
    }
}

/// Throws the error of kind `kind` that rank `rank` of `size` met, on this process.
[[noreturn]] inline void throw_everywhere(error_kind kind, const std::string& message,
                                          std::size_t rank, std::size_t size) {
    const std::string text =
        "rank " + std::to_string(rank) + " of " + std::to_string(size) + ": " + message;
    switch (kind) {
    case error_kind::shape:
        throw raised_everywhere<shape_error>(text, rank, size);
    case error_kind::config:
        throw raised_everywhere<config_error>(text, rank, size);
    case error_kind::io:
        throw raised_everywhere<io_error>(text, rank, size);
    case error_kind::numeric:
        throw raised_everywhere<numeric_error>(text, rank, size);
    case error_kind::out_of_range:
        throw raised_everywhere<std::out_of_range>(text, rank, size);
    case error_kind::invalid_argument:
        throw raised_everywhere<std::invalid_argument>(text, rank, size);
    case error_kind::runtime:
        break;
    }
    throw raised_everywhere<std::runtime_error>(text, rank, size);
}

/// A 64-bit hash of bytes, to compare data and weights between processes (not cryptographic):
/// eight bytes at a time, multiplied and folded.
inline std::uint64_t hash_bytes(std::span<const std::byte> bytes, std::uint64_t h = 0) {
    constexpr std::uint64_t prime = 0x9E3779B97F4A7C15ULL;
    const auto mix = [](std::uint64_t x) {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDULL;
        return x ^ (x >> 33);
    };
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        h = (h ^ mix(w)) * prime;
    }
    std::uint64_t tail = 0;
    if (i < bytes.size()) { // an empty span may have no address at all
        std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
    }
    return mix((h ^ mix(tail ^ bytes.size())) * prime);
}

/// A value every process must have the same: a name for messages, the value, and whether the
/// value means something to a reader (a count) or is a hash.
struct same_everywhere {
    std::string what;                    ///< "training samples", "the training inputs (x)"…
    std::uint64_t value;                 ///< The count, or a hash.
    bool readable = true;                ///< Whether the message shows the values.
    error_kind kind = error_kind::shape; ///< What a difference is: shape or config.
    /// For a hash of data: each sample's hash, computed only when the processes differ, to
    /// name the first sample that does.
    std::function<std::vector<std::uint64_t>()> samples{};
    bool real = false; ///< The value is a double's bits: the message shows the number.
};

/// One process's word at an exchange: whether it failed (and how), what its callbacks
/// decided, and its part of a batch's loss.
struct process_record {
    std::uint64_t failed = 0;
    std::uint64_t kind = 0;
    std::uint64_t message_size = 0;
    std::uint64_t stop = 0;
    double learning_rate = 0;
    std::uint64_t checksum = 0;
    double loss = 0;   ///< The shard's loss times its weight.
    double weight = 0; ///< The shard's weight (its samples when unweighted).
};

/// Contiguous shard `rank` of `n` rows split over `size` processes: [first, first + count).
/// The first n % size processes take one row more.
inline std::pair<std::size_t, std::size_t> shard_of(std::size_t n, std::size_t rank,
                                                    std::size_t size) {
    const std::size_t base = n / size;
    const std::size_t extra = n % size;
    return {rank * base + std::min(rank, extra), base + (rank < extra ? 1U : 0U)};
}

/// What one process's part of a training step gives: its outputs (null for no rows), its loss
/// (the mean over its rows) and its weight (its rows, or the sum of their weights).
template <class Output>
struct step_part {
    const Output* out = nullptr; ///< The part's outputs.
    double loss = 0;             ///< Its mean loss.
    double weight = 0;           ///< Its weight.
};

/// fit's step policy: on one process (a null group) every step is the plain algorithm and
/// every hook an inline no-op; on a process group it shards each batch, exchanges outputs,
/// losses and gradients, and keeps the processes agreeing.
///
/// Between two exchanges every process runs its own code in local(): an exception there is
/// held, the rest of the local code is skipped, and the next exchange makes every process
/// throw it (the first failed rank's), so that no process waits for one that has left.
template <class T>
class data_parallel {
  public:
    explicit data_parallel(process_group* group) : group_(group) {
        if (group_ != nullptr) {
            rank_ = group_->rank();
            size_ = group_->size();
            records_.resize(size_);
            counts_.resize(size_);
            sizes_.resize(size_);
        }
    }

    /// Whether fit runs on a process group.
    bool active() const { return group_ != nullptr; }
    /// This process's rank (0 alone).
    std::size_t rank() const { return rank_; }
    /// The number of processes (1 alone).
    std::size_t size() const { return size_; }
    /// This process's rows of a batch of n: (first, count).
    std::pair<std::size_t, std::size_t> shard(std::size_t n) const {
        return shard_of(n, rank_, size_);
    }

    /// Runs `f`; on a process group an exception is held until the next exchange.
    template <class F>
    void local(F&& f) {
        if (group_ == nullptr) {
            f();
            return;
        }
        if (pending_) {
            return;
        }
        try {
            f();
        } catch (...) {
            pending_ = std::current_exception();
        }
    }

    /// An exchange of nothing but failures: every process throws the first one's.
    void agree() {
        if (group_ != nullptr) {
            exchange(own_record());
        }
    }

    /// An exchange after callbacks: failures, then stop_training (any process's) and the
    /// learning rate (rank 0's) for every process; with `check_replicas`, the parameters'
    /// and buffers' hash, equal everywhere or a numeric_error.
    void agree(training_state<T>& state, bool check_replicas = false) {
        if (group_ == nullptr) {
            return;
        }
        auto mine = own_record();
        mine.stop = state.stop_training ? 1U : 0U;
        mine.learning_rate = state.learning_rate;
        if (check_replicas && !pending_) {
            mine.checksum = checksum(state.parameters, state.buffers);
        }
        exchange(mine);
        state.learning_rate = records_[0].learning_rate;
        for (const auto& r : records_) {
            state.stop_training = state.stop_training || r.stop != 0;
        }
        if (check_replicas) {
            for (std::size_t r = 1; r < size_; ++r) {
                if (records_[r].checksum != records_[0].checksum) {
                    throw_everywhere(
                        error_kind::numeric,
                        "fit: after epoch " + std::to_string(state.epoch) +
                            " the replicas differ (rank " + std::to_string(r) +
                            "'s weights are not rank 0's): the process group's sums did not "
                            "give every process the same bits",
                        r, size_);
                }
            }
        }
    }

    /// Checks that every process has the same `values` (samples, shapes, options, hashes of the
    /// data and the model), else throws on every process the same error naming the first that
    /// differs, rank 0's value and the other's. `model_lines` (a line per layer and
    /// parameter) names the first differing line when the model differs.
    void require_same(const std::vector<same_everywhere>& values, const std::string& model_lines) {
        if (group_ == nullptr) {
            return;
        }
        agree();
        const std::size_t k = values.size() + 1;
        std::vector<std::uint64_t> mine(k);
        for (std::size_t i = 0; i < values.size(); ++i) {
            mine[i] = values[i].value;
        }
        mine[k - 1] = hash_bytes(std::as_bytes(std::span(model_lines)));
        std::vector<std::uint64_t> all(k * size_);
        std::vector<std::size_t> counts(size_, k * sizeof(std::uint64_t));
        group_->all_gather(std::as_bytes(std::span(mine)), std::as_writable_bytes(std::span(all)),
                           counts);
        for (std::size_t r = 1; r < size_; ++r) {
            for (std::size_t i = 0; i < values.size(); ++i) {
                const auto a = all[i];
                const auto b = all[r * k + i];
                if (a != b) {
                    const auto& v = values[i];
                    throw_everywhere(v.kind, difference(v, a, b, r), r, size_);
                }
            }
        }
        for (std::size_t r = 1; r < size_; ++r) {
            if (all[k - 1] != all[r * k + k - 1]) {
                throw_everywhere(error_kind::config, model_difference(model_lines, r), r, size_);
            }
        }
    }

    /// The message for `v`, which rank 0 has as `a` and rank `r` as `b`: the two values, or
    /// for data the first sample that differs (every process computes it: a collective).
    std::string difference(const same_everywhere& v, std::uint64_t a, std::uint64_t b,
                           std::size_t r) {
        const std::string head = "fit: the processes differ in " + v.what + ": ";
        if (v.readable) {
            return head + "rank 0 has " + std::to_string(a) + ", rank " + std::to_string(r) +
                   " has " + std::to_string(b);
        }
        if (v.real) {
            double x = 0;
            double y = 0;
            std::memcpy(&x, &a, sizeof x);
            std::memcpy(&y, &b, sizeof y);
            return head + "rank 0 has " + format_number(x) + ", rank " + std::to_string(r) +
                   " has " + format_number(y);
        }
        if (v.samples) {
            const auto mine = v.samples();
            const std::uint64_t n = mine.size();
            std::vector<std::uint64_t> sizes(size_);
            group_->all_gather(std::as_bytes(std::span(&n, 1)),
                               std::as_writable_bytes(std::span(sizes)),
                               std::vector<std::size_t>(size_, sizeof n));
            if (std::all_of(sizes.begin(), sizes.end(), [&](auto s) { return s == n; })) {
                std::vector<std::uint64_t> all(n * size_);
                group_->all_gather(std::as_bytes(std::span(mine)),
                                   std::as_writable_bytes(std::span(all)),
                                   std::vector<std::size_t>(size_, n * sizeof(std::uint64_t)));
                for (std::size_t j = 0; j < n; ++j) {
                    if (all[j] != all[r * n + j]) {
                        return head + "rank " + std::to_string(r) +
                               "'s differ from rank 0's from sample " + std::to_string(j) +
                               " on (of " + std::to_string(n) + ")";
                    }
                }
            }
        }
        return head + "rank " + std::to_string(r) + "'s differ from rank 0's";
    }

    /// Before training, on a process group: checks that every process has the same data,
    /// options and model (`fingerprint()` and `model_lines()` are computed only then; see
    /// require_same()), then copies rank 0's parameters and buffers to every process.
    template <class Fingerprint, class Lines>
    void start(Fingerprint&& fingerprint, Lines&& model_lines,
               std::span<parameter_view<T>> parameters, std::span<buffer_view<T>> buffers) {
        if (group_ == nullptr) {
            return;
        }
        require_same(fingerprint(), model_lines());
        broadcast_model(parameters, buffers);
    }

    /// One training step's forward and backward passes over batch `rows`, before the
    /// optimizer's step: this process's rows go through `part(rows, total)` (a step_part),
    /// which back-propagates the output gradient scaled by the rows' weight over `total` (the
    /// batch's; none: the rows are the batch, unscaled); `metrics(outputs, rows)` then sees
    /// the whole batch's outputs. On a process group the part is a contiguous shard, the
    /// outputs are gathered into `outputs(n)` (the batch's buffer, sized for n rows) and the
    /// gradients summed. Returns the batch's loss (the weighted mean of the parts') and weight.
    template <class Part, class Metrics, class Outputs>
    std::pair<double, double>
    train_batch(std::span<const std::size_t> rows, const std::vector<T>& weights, Part&& part,
                Metrics&& metrics, Outputs&& outputs, std::span<parameter_view<T>> parameters) {
        if (group_ == nullptr) {
            const auto whole = part(rows, std::optional<double>());
            metrics(*whole.out, rows);
            return {whole.loss, whole.weight};
        }
        const double rows_weight = gather_weights(weights, rows, batch_weights_);
        const auto own = shard(rows.size()); // (first, count)
        const auto own_rows = rows.subspan(own.first, own.second);
        decltype(part(rows, std::optional<double>())) mine{};
        local([&] {
            if (own_rows.empty()) { // a batch smaller than the group: this process adds nothing
                for (auto& p : parameters) {
                    std::fill(p.gradient.begin(), p.gradient.end(), T(0));
                }
                return;
            }
            mine = part(own_rows, std::optional<double>(rows_weight));
        });
        auto& global = outputs(rows.size());
        const double loss = exchange_step(mine.out, mine.loss, mine.weight, global);
        metrics(global, rows);
        sum_gradients(parameters);
        return {loss, rows_weight};
    }

    /// Copies rank 0's parameters and buffers to every process.
    void broadcast_model(std::span<parameter_view<T>> parameters,
                         std::span<buffer_view<T>> buffers) {
        if (group_ == nullptr) {
            return;
        }
        for (auto& p : parameters) {
            group_->broadcast(std::as_writable_bytes(p.value), 0);
        }
        broadcast_buffers(buffers);
    }

    /// Every process's `mine`, in rank order (alone: `mine`). A collective: every process
    /// calls it at the same point.
    std::vector<std::string> gather(const std::string& mine) {
        if (group_ == nullptr) {
            return {mine};
        }
        const std::uint64_t size = mine.size();
        std::vector<std::uint64_t> sizes(size_);
        const std::vector<std::size_t> eight(size_, sizeof(std::uint64_t));
        group_->all_gather(std::as_bytes(std::span(&size, 1)),
                           std::as_writable_bytes(std::span(sizes)), eight);
        const std::vector<std::size_t> counts(sizes.begin(), sizes.end());
        std::string all(std::accumulate(counts.begin(), counts.end(), std::size_t{0}), '\0');
        group_->all_gather(std::as_bytes(std::span(mine)), std::as_writable_bytes(std::span(all)),
                           counts);
        std::vector<std::string> out;
        std::size_t at = 0;
        for (const auto count : counts) {
            out.push_back(all.substr(at, count));
            at += count;
        }
        return out;
    }

    /// Copies rank 0's buffers (batch norm's running statistics) to every process.
    void broadcast_buffers(std::span<buffer_view<T>> buffers) {
        if (group_ == nullptr) {
            return;
        }
        for (auto& b : buffers) {
            std::visit([&](auto v) { group_->broadcast(std::as_writable_bytes(v), 0); }, b.value);
        }
    }

    /// The exchange after each process's forward and backward pass on its shard: failures
    /// first; then every shard's outputs into `global` (the whole batch's, in order, for the
    /// metrics), and the batch's loss, the weighted mean of the shards' (in rank order, so the
    /// same bits everywhere). `out` is null for a process without rows.
    template <class Output>
    double exchange_step(const Output* out, double loss, double weight, Output& global) {
        auto mine = own_record();
        std::span<const std::byte> own_outputs;
        if (!pending_ && out != nullptr) {
            mine.loss = loss * weight;
            mine.weight = weight;
            own_outputs = std::as_bytes(std::span(out->data(), out->size()));
        }
        const std::size_t batch = global.shape()[0];
        const std::size_t row = global.size() / std::max<std::size_t>(batch, 1);
        for (std::size_t r = 0; r < size_; ++r) {
            counts_[r] = shard_of(batch, r, size_).second * row * sizeof(T);
        }
        exchange(mine, own_outputs, reinterpret_cast<std::byte*>(global.data()));
        double sum = 0;
        double weights = 0;
        for (const auto& r : records_) {
            sum += r.loss;
            weights += r.weight;
        }
        return weights > 0 ? sum / weights : 0.0;
    }

    /// Sums every parameter's gradient over the processes, in place (each process's gradient
    /// is already its share of the batch's mean).
    void sum_gradients(std::span<parameter_view<T>> parameters) {
        if (group_ == nullptr) {
            return;
        }
        for (auto& p : parameters) {
            group_->sum(p.gradient);
        }
    }

  private:
    process_record own_record() {
        process_record r;
        if (pending_) {
            const auto [kind, message] = describe_error(pending_);
            r.failed = 1;
            r.kind = static_cast<std::uint64_t>(kind);
            r.message_size = message.size();
            message_ = message;
        }
        return r;
    }

    /// Gathers every process's record and, for a step (`global` not null), its outputs
    /// (counts_[r] bytes from rank r) into `global`, in rank order; then throws the first
    /// failure everywhere.
    void exchange(const process_record& mine, std::span<const std::byte> outputs = {},
                  std::byte* global = nullptr) {
        const std::size_t head = sizeof(process_record);
        std::size_t total = 0;
        for (std::size_t r = 0; r < size_; ++r) {
            sizes_[r] = head + (global != nullptr ? counts_[r] : 0);
            total += sizes_[r];
        }
        // A failed process sends what its count says, whatever its outputs hold.
        send_.resize(sizes_[rank_]);
        std::memcpy(send_.data(), &mine, head);
        if (!outputs.empty()) {
            std::memcpy(send_.data() + head, outputs.data(), outputs.size());
        }
        received_.resize(total);
        group_->all_gather(send_, received_, sizes_);
        std::size_t at = 0;
        for (std::size_t r = 0; r < size_; ++r) {
            std::memcpy(&records_[r], received_.data() + at, head);
            if (global != nullptr && counts_[r] > 0) {
                std::memcpy(global, received_.data() + at + head, counts_[r]);
                global += counts_[r];
            }
            at += sizes_[r];
        }
        for (std::size_t r = 0; r < size_; ++r) {
            if (records_[r].failed != 0) {
                std::string message(records_[r].message_size, '\0');
                if (r == rank_) {
                    message = message_;
                }
                group_->broadcast(std::as_writable_bytes(std::span(message)), r);
                pending_ = nullptr;
                throw_everywhere(static_cast<error_kind>(records_[r].kind), message, r, size_);
            }
        }
    }

    static std::uint64_t checksum(std::span<parameter_view<T>> parameters,
                                  std::span<buffer_view<T>> buffers) {
        std::uint64_t h = 0;
        for (const auto& p : parameters) {
            h = hash_bytes(std::as_bytes(p.value), h);
        }
        for (const auto& b : buffers) {
            std::visit([&](auto v) { h = hash_bytes(std::as_bytes(v), h); }, b.value);
        }
        return h;
    }

    /// The first line of the model's description where rank `r` differs from rank 0.
    std::string model_difference(const std::string& mine, std::size_t r) {
        std::vector<std::uint64_t> lengths(size_);
        const std::uint64_t own = mine.size();
        std::vector<std::size_t> eight(size_, sizeof(std::uint64_t));
        group_->all_gather(std::as_bytes(std::span(&own, 1)),
                           std::as_writable_bytes(std::span(lengths)), eight);
        std::vector<std::size_t> counts(lengths.begin(), lengths.end());
        std::size_t total = 0;
        for (const auto c : counts) {
            total += c;
        }
        std::string all(total, '\0');
        group_->all_gather(std::as_bytes(std::span(mine)), std::as_writable_bytes(std::span(all)),
                           counts);
        std::size_t offset = 0;
        for (std::size_t q = 0; q < r; ++q) {
            offset += counts[q];
        }
        const std::string_view first(all.data(), counts[0]);
        const std::string_view other(all.data() + offset, counts[r]);
        if (const auto lines = first_different_line(first, other)) {
            return "fit: the processes train different models: rank 0 has " + lines->first +
                   ", rank " + std::to_string(r) + " has " + lines->second;
        }
        return "fit: the processes train different models (rank 0 and rank " + std::to_string(r) +
               ")";
    }

    process_group* group_ = nullptr;
    std::size_t rank_ = 0;
    std::size_t size_ = 1;
    std::exception_ptr pending_;
    std::string message_;
    std::vector<process_record> records_;
    std::vector<std::size_t> counts_;
    std::vector<std::size_t> sizes_;
    std::vector<std::byte> send_;
    std::vector<std::byte> received_;
    std::vector<T> batch_weights_;
};

} // namespace xtnn::detail
