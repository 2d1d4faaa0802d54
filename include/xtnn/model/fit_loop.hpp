/// @file
/// The pieces of fit's loops: the batches of a pass over rows (fit, evaluate and predict walk
/// them alike), the seeded split into training and validation rows, each epoch's order, the
/// weights of a batch, and the sum of a step's groups' gradients.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>

namespace xtnn::detail {

/// The batches of one pass over `rows`: batch b is rows [b·size, min((b+1)·size, n)), the last
/// one smaller when size does not divide n.
class batches {
  public:
    /// The batches of `rows`, `size` (> 0) at a time.
    batches(std::span<const std::size_t> rows, std::size_t size) : rows_(rows), size_(size) {}

    /// How many batches (without overflow for any size: SIZE_MAX is one batch of every row).
    std::size_t count() const { return rows_.size() / size_ + (rows_.size() % size_ != 0 ? 1 : 0); }

    /// The rows of batch `b`.
    std::span<const std::size_t> operator[](std::size_t b) const {
        const std::size_t first = b * size_;
        return rows_.subspan(first, std::min(size_, rows_.size() - first));
    }

  private:
    std::span<const std::size_t> rows_;
    std::size_t size_;
};

/// 0, 1, …, n - 1: every sample, in order.
inline std::vector<std::size_t> all_rows(std::size_t n) {
    std::vector<std::size_t> rows(n);
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
}

/// The rows fit trains and validates on.
struct fit_rows {
    std::vector<std::size_t> training;   ///< In order.
    std::vector<std::size_t> validation; ///< In order; empty without a split.
};

/// `held_out` of n samples chosen at random for validation from (seed, 0), the rest for
/// training: unlike Keras not the last samples, so that data sorted by class still gives a
/// fair split.
inline fit_rows split_rows(std::size_t n, std::size_t held_out, std::uint64_t seed) {
    fit_rows rows{all_rows(n), {}};
    if (held_out > 0) {
        random_engine split_rng(derive_seed(seed, 0));
        split_rng.shuffle(std::span<std::size_t>(rows.training));
        rows.validation.assign(rows.training.end() - static_cast<std::ptrdiff_t>(held_out),
                               rows.training.end());
        rows.training.resize(n - held_out);
        std::sort(rows.training.begin(), rows.training.end());
        std::sort(rows.validation.begin(), rows.validation.end());
    }
    return rows;
}

/// Epoch `epoch`'s order of the training rows into `order`: shuffled from (seed, epoch + 1)
/// only, so that resuming at initial_epoch replays an uninterrupted run's batches.
inline void epoch_order(std::span<const std::size_t> training, std::vector<std::size_t>& order,
                        std::uint64_t seed, std::size_t epoch, bool shuffle) {
    order.assign(training.begin(), training.end());
    if (shuffle) {
        random_engine shuffle_rng(derive_seed(seed, epoch + 1));
        shuffle_rng.shuffle(std::span<std::size_t>(order));
    }
}

/// Gathers the weights of `rows` into `batch` (nothing when `weights` is empty) and returns
/// their sum (the number of rows when unweighted).
template <class T>
double gather_weights(const std::vector<T>& weights, std::span<const std::size_t> rows,
                      std::vector<T>& batch) {
    if (weights.empty()) {
        batch.clear();
        return static_cast<double>(rows.size());
    }
    batch.resize(rows.size());
    double sum = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        batch[i] = weights[rows[i]];
        sum += static_cast<double>(batch[i]);
    }
    return sum;
}

/// The parameter gradients of a training step run as groups of samples (see
/// sequential::training_group): each group's backward writes the gradients anew, so after
/// every group but the last keep() adds them to a running sum, and after the last finish()
/// adds that sum into them. Sized at the first step, then allocation-free.
template <class T>
class gradient_sum {
  public:
    /// Adds the gradients of `parameters` to the sum (the first group's start it).
    void keep(std::span<parameter_view<T>> parameters, bool first) {
        sums_.resize(parameters.size());
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const auto g = parameters[i].gradient;
            auto& sum = sums_[i];
            if (first) {
                sum.assign(g.begin(), g.end());
                continue;
            }
            for (std::size_t j = 0; j < g.size(); ++j) {
                sum[j] += g[j];
            }
        }
    }

    /// Adds the sum into the gradients of `parameters` (the last group's).
    void finish(std::span<parameter_view<T>> parameters) const {
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const auto g = parameters[i].gradient;
            const auto& sum = sums_[i];
            for (std::size_t j = 0; j < g.size(); ++j) {
                g[j] += sum[j];
            }
        }
    }

  private:
    std::vector<std::vector<T>> sums_;
};

} // namespace xtnn::detail
