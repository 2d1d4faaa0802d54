/// @file
/// Matrix products: the one place in xtnn that calls BLAS.
#pragma once

#include <algorithm>
#include <climits>
#include <concepts>
#include <cstddef>
#include <string>

#include <xtensor-blas/xblas.hpp>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/tensor.hpp>

// xtensor-blas declares the CBLAS interface itself (xflens' cblas.h, in the global namespace).
// OpenBLAS's own <cblas.h> must never be included next to it: the two declarations clash.

namespace xtnn {

/// Options of gemm(): `C = alpha * op(A) * op(B) + beta * C`, where op transposes on request.
/// @ingroup core
struct gemm_options {
    bool transpose_a = false; ///< Use Aᵀ instead of A (no copy is made).
    bool transpose_b = false; ///< Use Bᵀ instead of B (no copy is made).
    double alpha = 1.0;       ///< Scale of the product.
    double beta = 0.0; ///< Scale of the previous C; 0 overwrites C (even NaN), 1 accumulates.
};

namespace detail {

inline int blas_extent(std::size_t n, const char* where) {
    if (n > static_cast<std::size_t>(INT_MAX)) {
        throw shape_error(std::string(where) + ": extent " + std::to_string(n) +
                          " exceeds the BLAS index range (INT_MAX)");
    }
    return static_cast<int>(n);
}

/// Row-major GEMM on raw pointers: C (m x n) = alpha op(A) op(B) + beta C, op(A) is (m x k).
///
/// `lda`, `ldb` and `ldc` are the row strides of the stored (untransposed) matrices. No shape
/// checks beyond the BLAS index range: callers check shapes (see xtnn::gemm).
template <std::floating_point T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    if (m == 0 || n == 0) {
        return;
    }
    const char* where = "gemm";
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
    // BLAS rejects a leading dimension of 0 even when k == 0.
    const int ia = blas_extent(std::max<std::size_t>(lda, 1), where);
    const int ib = blas_extent(std::max<std::size_t>(ldb, 1), where);
    const int ic = blas_extent(std::max<std::size_t>(ldc, 1), where);
    const int im = blas_extent(m, where);
    const int in = blas_extent(n, where);
    const int ik = blas_extent(k, where);
    if constexpr (std::same_as<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a, ia, b, ib, beta, c, ic);
    } else if constexpr (std::same_as<T, double>) {
        cblas_dgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a, ia, b, ib, beta, c, ic);
    } else {
        static_assert(std::same_as<T, float> || std::same_as<T, double>,
                      "xtnn: gemm supports float and double only (BLAS has no other real type)");
    }
}

} // namespace detail

/// Matrix product into a preallocated output: `C = alpha * op(A) * op(B) + beta * C`.
///
/// Shapes: op(A) (m, k), op(B) (k, n), C (m, n). C is never resized, so the call does not
/// allocate; it is a straight call to `cblas_sgemm` / `cblas_dgemm` with transpose flags.
///
/// @tparam T float or double.
/// @throws shape_error if the inner extents differ or C is not (m, n), with both shapes.
/// @throws std::invalid_argument if C is the same tensor as A or B (BLAS cannot write in place).
/// @ingroup core
///
/// @code
/// xtnn::tensor<float, 2> y({32, 128});
/// xtnn::gemm(x, w, y, {.transpose_b = true});   // y = x wᵀ
/// @endcode
template <std::floating_point T>
void gemm(const tensor<T, 2>& a, const tensor<T, 2>& b, tensor<T, 2>& c,
          gemm_options options = {}) {
    const std::size_t m = options.transpose_a ? a.shape()[1] : a.shape()[0];
    const std::size_t k = options.transpose_a ? a.shape()[0] : a.shape()[1];
    const std::size_t kb = options.transpose_b ? b.shape()[1] : b.shape()[0];
    const std::size_t n = options.transpose_b ? b.shape()[0] : b.shape()[1];
    if (k != kb) {
        throw shape_error(detail::mismatch_message(
            "gemm", "inner extents of op(A) and op(B) differ",
            "op(B) with " + std::to_string(k) + " rows",
            "A " + format_shape(a.shape()) + (options.transpose_a ? "ᵀ" : "") + ", B " +
                format_shape(b.shape()) + (options.transpose_b ? "ᵀ" : "")));
    }
    if (c.shape()[0] != m || c.shape()[1] != n) {
        throw shape_error(detail::mismatch_message("gemm", "output shape mismatch",
                                                   format_shape(shape<2>{m, n}),
                                                   format_shape(c.shape())));
    }
    if ((c.size() != 0 && c.data() == a.data()) || (c.size() != 0 && c.data() == b.data())) {
        throw std::invalid_argument("gemm: the output must not be an input (BLAS cannot write "
                                    "in place)");
    }
    detail::gemm(options.transpose_a, options.transpose_b, m, n, k, static_cast<T>(options.alpha),
                 a.data(), a.shape()[1], b.data(), b.shape()[1], static_cast<T>(options.beta),
                 c.data(), n);
}

} // namespace xtnn
