/// @file
/// Per-sample weights of a batch loss: the weighted mean that every loss uses.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <xtnn/core/errors.hpp>

namespace xtnn::detail {

/// How a loss turns per-row sums into its value: `L = scale Σ_r weight(r) rowsum_r`.
///
/// Without weights, every row weighs 1 and `scale = 1 / (batch · row)`: the plain mean over
/// every element. With weights w (one per row), `scale = 1 / (Σ w · row)`: the weighted mean
/// of the per-sample losses, `Σ w_r ℓ_r / Σ w_r` with ℓ_r the mean over the row's `row`
/// elements: PyTorch's normalization (CrossEntropyLoss(weight=…), reduction "mean"). A batch
/// whose weights are all 0 contributes nothing: value and gradient 0.
template <std::floating_point T>
struct row_weights {
    std::span<const T> weights; ///< Empty: every row weighs 1.
    T scale;                    ///< The factor of the weighted sum.
    /// The weight of row r.
    T weight(std::size_t r) const { return weights.empty() ? T(1) : weights[r]; }
};

/// Checks `weights` (empty, or one finite weight ≥ 0 per row) and returns the row factors.
/// @throws shape_error if there is not one weight per row; config_error naming the first
/// negative or non-finite weight.
template <std::floating_point T>
row_weights<T> make_row_weights(std::span<const T> weights, std::size_t batch, std::size_t row,
                                std::string_view where) {
    if (weights.empty()) {
        return {weights, T(1) / static_cast<T>(batch * row)};
    }
    if (weights.size() != batch) {
        throw shape_error(
            mismatch_message(std::string(where) + "::value", "one sample weight per row",
                             std::to_string(batch) + " weights", std::to_string(weights.size())));
    }
    T total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        if (!(weights[r] >= T(0)) || !std::isfinite(weights[r])) {
            throw config_error(std::string(where) + ": the weight of row " + std::to_string(r) +
                               " must be finite and >= 0; got " +
                               format_number(static_cast<double>(weights[r])));
        }
        total += weights[r];
    }
    return {weights, total > T(0) ? T(1) / (total * static_cast<T>(row)) : T(0)};
}

} // namespace xtnn::detail
