/// @file
/// Scalar helpers shared by activations, losses and layers.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/detail/simd.hpp>

namespace xtnn::detail {

/// The logistic function 1 / (1 + e⁻ˣ), computed without overflow: the exponential is only
/// formed as e^-|x| ≤ 1. For scalars and xsimd batches alike; NaN gives NaN.
template <xtnn::real_value V>
V logistic(V x) {
    using std::abs;
    using std::exp;
    const V e = exp(-abs(x));
    const V r = V(1) / (V(1) + e);
    return detail::select(x >= V(0), r, e * r);
}

/// log(1 + eˣ), exact and overflow-free for any x: max(x, 0) + log1p(e^-|x|). For scalars
/// and xsimd batches alike; NaN gives NaN.
template <xtnn::real_value V>
V log1p_exp(V x) {
    using std::abs;
    using std::exp;
    using std::log1p;
    return detail::select(x > V(0), x, V(0)) + log1p(exp(-abs(x)));
}

/// For one row z of length n > 0: returns {m, s} with m = max z and s = Σ exp(z_j - m), and
/// writes exp(z_j - m) into `exps` unless it is null. Subtracting the maximum keeps every
/// exponent ≤ 0, so no logit is too large; logsumexp(z) = m + log s.
template <std::floating_point T>
std::pair<T, T> shifted_exp_sum(const T* z, std::size_t n, T* exps) {
    T m = z[0];
    for (std::size_t j = 1; j < n; ++j) {
        m = std::max(m, z[j]);
    }
    T sum = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const T e = std::exp(z[j] - m);
        sum += e;
        if (exps != nullptr) {
            exps[j] = e;
        }
    }
    return {m, sum};
}

/// A class label checked against the number of classes: the label as an index, or
/// std::out_of_range "<where>: label L of row R is out of range; expected 0..C-1".
template <std::integral I>
std::size_t class_index(I label, std::size_t classes, std::size_t row, std::string_view where) {
    if (std::cmp_less(label, 0) || std::cmp_greater_equal(label, classes)) {
        throw std::out_of_range(std::string(where) + ": label " + std::to_string(label) +
                                " of row " + std::to_string(row) +
                                " is out of range; expected 0.." + std::to_string(classes - 1));
    }
    return static_cast<std::size_t>(label);
}

/// Σ term(i) over i in [0, n), in 16 interleaved partial sums added at the end. One running
/// sum is a chain of dependent additions (4 cycles each) that compilers may not reorder
/// without -ffast-math; 16 independent ones become SIMD additions. `term(i)` must be cheap
/// and free of side effects (a load, a product). The order of the additions, and so the
/// rounding, depends only on n.
template <std::floating_point T, class Term>
T lane_sum(std::size_t n, Term term) {
    constexpr std::size_t lanes = 16;
    T partial[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (std::size_t l = 0; l < lanes; ++l) {
            partial[l] += term(i + l);
        }
    }
    T sum = 0;
    for (; i < n; ++i) {
        sum += term(i);
    }
    for (std::size_t l = 0; l < lanes; ++l) {
        sum += partial[l];
    }
    return sum;
}

/// The index of the largest of n > 0 values (the first one on ties).
template <class T>
std::size_t argmax(const T* values, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < n; ++j) {
        if (values[j] > values[best]) {
            best = j;
        }
    }
    return best;
}

/// The index of the first of n floating-point values that is NaN or infinite, n if none: in
/// blocks whose exponent bits are tested without a branch (vector code, as fast as memory
/// brings the values), over xtnn's threads for a dataset of megabytes (each part's first,
/// the least of them). fit checks its data with it before the first step.
template <std::floating_point T>
std::size_t first_not_finite(const T* values, std::size_t n) {
    using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    // The exponent's bits, all set in NaN and infinity only.
    constexpr bits exponent = std::bit_cast<bits>(std::numeric_limits<T>::infinity());
    constexpr std::size_t block = 1024;
    const auto first_in = [&](std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; b += block) {
            const T* at = values + b;
            bits any = 0;
            if (b + block <= end) {
                for (std::size_t i = 0; i < block; ++i) { // a constant count: vector code
                    any |= static_cast<bits>((std::bit_cast<bits>(at[i]) & exponent) == exponent);
                }
            } else {
                any = 1; // the last values: one by one
            }
            for (std::size_t i = 0; any != 0 && i < std::min(block, end - b); ++i) {
                if (!std::isfinite(at[i])) {
                    return b + i;
                }
            }
        }
        return n; // none
    };
    std::array<std::size_t, 64> firsts{}; // a part's first, per part (at most 64 threads here)
    const partition split((n + block - 1) / block, (std::size_t{1} << 20) / sizeof(T) / block,
                          std::min<std::size_t>(num_threads(), firsts.size()));
    parallel_for(split, [&](std::size_t first, std::size_t last, std::size_t part) {
        firsts[part] = first_in(first * block, std::min(last * block, n));
    });
    return *std::min_element(firsts.begin(),
                             firsts.begin() + static_cast<std::ptrdiff_t>(split.parts));
}

} // namespace xtnn::detail

namespace xtnn {

/// The index of the largest of `values` (the first one on ties): the class a row of a model's
/// scores predicts. (xtensor 0.24.3's one-dimensional xt::argmax returns the smallest's.)
/// @throws std::invalid_argument if there are no values.
/// @code
/// const int digit = static_cast<int>(xtnn::argmax(std::span<const float>(row, 10)));
/// @endcode
/// @ingroup core
template <class T>
std::size_t argmax(std::span<const T> values) {
    if (values.empty()) {
        throw std::invalid_argument("argmax: no values");
    }
    return detail::argmax(values.data(), values.size());
}

} // namespace xtnn
