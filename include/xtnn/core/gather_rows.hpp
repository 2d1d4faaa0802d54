/// @file
/// Gathering rows of a dataset into a reused batch buffer.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include <xtnn/core/parallel.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>

namespace xtnn {

/// Copies rows `rows` (indices along the first axis) of `source` into `batch`, resizing
/// `batch` only when the number of rows changes, so a loop over equal batches allocates
/// nothing. One memcpy per row: shuffled batches cost what contiguous ones do.
/// @tparam Source an xtnn::tensor of any element type and rank >= 1 (samples first).
/// @tparam Batch the same tensor type.
/// @throws std::out_of_range if a row index is not below `source.shape()[0]` (checked before
/// `batch` is touched).
/// @code
/// xtnn::tensor<float, 2> batch;
/// xtnn::gather_rows(x, std::span(order).subspan(first, 32), batch);
/// @endcode
/// @ingroup core
template <class T, std::size_t N>
requires(N >= 1) void gather_rows(const tensor<T, N>& source, std::span<const std::size_t> rows,
                                  tensor<T, N>& batch) {
    const std::size_t available = source.shape()[0];
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r] >= available) {
            throw std::out_of_range("gather_rows: row index " + std::to_string(rows[r]) +
                                    " at position " + std::to_string(r) +
                                    " is out of range; expected an index below " +
                                    std::to_string(available));
        }
    }
    shape<N> s;
    std::copy(source.shape().begin(), source.shape().end(), s.begin());
    s[0] = rows.size();
    if (batch.shape() != s) {
        batch.resize(s);
    }
    const std::size_t row_size = source.shape()[0] == 0 ? 0 : source.size() / source.shape()[0];
    const T* from = source.data();
    T* to = batch.data();
    // A shuffled row of a large dataset is a wait on memory, and the hardware's prefetcher
    // only starts on a row once its first lines are read: each row's lines are asked for
    // `ahead` rows before it is copied, so that a few rows are on their way at once.
    constexpr std::size_t ahead = 2, line = 64;
    const std::size_t row_bytes = row_size * sizeof(T);
    const auto request = [&](std::size_t r) {
        const char* p = reinterpret_cast<const char*>(from + rows[r] * row_size);
        for (std::size_t b = 0; b < row_bytes; b += line) {
            __builtin_prefetch(p + b);
        }
    };
    const auto copy = [&](std::size_t first, std::size_t last, std::size_t) {
        for (std::size_t r = first; r < std::min(last, first + ahead); ++r) {
            request(r);
        }
        for (std::size_t r = first; r < last; ++r) {
            if (r + ahead < last) {
                request(r + ahead);
            }
            std::copy_n(from + rows[r] * row_size, row_size, to + r * row_size);
        }
    };
    // Rows scattered over a large dataset wait on memory one after another: a large batch's
    // rows split over the threads, each waiting for its own (parts of ≥ 128 KiB).
    const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 17) / sizeof(T) /
                                                           std::max<std::size_t>(row_size, 1));
    detail::parallel_for(rows.size(), grain, copy);
}

/// @cond XTNN_DETAIL
// Any other types: one sentence saying what gather_rows takes.
template <class Source, class Batch>
requires(!any_tensor<Source> || rank_of<Source> == 0 ||
         !std::same_as<Batch, Source>) detail::rejected
    gather_rows(const Source&, std::span<const std::size_t>, Batch&) {
    static_assert(any_tensor<Source> && rank_of<Source> >= 1,
                  "xtnn: gather_rows: the source must be an xtnn::tensor of rank 1 or more (an "
                  "xt::xtensor, samples first)");
    static_assert(!any_tensor<Source> || std::same_as<Batch, Source>,
                  "xtnn: gather_rows: the batch buffer must be a tensor of the source's type "
                  "(the same rank and element type)");
    return {};
}
/// @endcond
} // namespace xtnn
