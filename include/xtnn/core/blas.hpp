/// @file
/// Matrix products: the one place in xtnn that calls BLAS.
#pragma once

#include <algorithm>
#include <climits>
#include <concepts>
#include <cstddef>
#include <string>

// The CBLAS declarations alone: xtensor-blas's xblas.hpp would add xio, xcomplex and FLENS'
// templates (48,000 preprocessed lines, a fifth of xtnn.hpp) that xtnn never calls.
#include <xflens/cxxblas/drivers/cblas.h>

#include <xtnn/core/cpu.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/detail/kernels.hpp>

// xtensor-blas declares the CBLAS interface itself (xflens' cblas.h, in the global namespace),
// and xtnn uses the same header, so xtensor-blas's linear algebra can be included next to xtnn.
// OpenBLAS's own <cblas.h> must never be included next to it: the two declarations clash.

#if XTNN_OPENBLAS_THREADS
// The name of the kernel set OpenBLAS chose (declared weak, as its thread functions in
// parallel.hpp: null when xtnn is linked against another BLAS).
extern "C" char* openblas_get_corename(void) __attribute__((weak));
#endif

namespace xtnn {

/// How a large product splits over xtnn's threads (see gemm_options::split).
/// @ingroup core
enum class product_split {
    automatic, ///< by C's longer side, in parts of whole register tiles
    rows,      ///< by C's rows, as the optimizers split a weight's rows
    columns,   ///< by C's columns, as the optimizers split a weight's rows
};

/// Options of gemm(): `C = alpha * op(A) * op(B) + beta * C`, where op transposes on request.
/// @ingroup core
struct gemm_options {
    bool transpose_a = false; ///< Use Aᵀ instead of A (no copy is made).
    bool transpose_b = false; ///< Use Bᵀ instead of B (no copy is made).
    double alpha = 1.0;       ///< Scale of the product.
    double beta = 0.0; ///< Scale of the previous C; 0 overwrites C (even NaN), 1 accumulates.
    /// How the product splits over xtnn's threads when it is large enough to (parts of ≥ 8
    /// MFLOP). `rows` or `columns` split C's rows or columns as the optimizers split a
    /// weight's rows (parts of whole 8s, as even as they can be), so that a layer keeps each
    /// thread on the same rows of its weights through a training step: xtnn::dense computes
    /// `x·Wᵀ` by columns and `dyᵀ·x` by rows, and no core reads the weights or gradients that
    /// another core just wrote. The results are the same whatever the split.
    product_split split = product_split::automatic;
};

namespace detail {

inline int blas_extent(std::size_t n, const char* where) {
    if (n > static_cast<std::size_t>(INT_MAX)) {
        throw shape_error(std::string(where) + ": extent " + std::to_string(n) +
                          " exceeds the BLAS index range (INT_MAX)");
    }
    return static_cast<int>(n);
}

/// Which sgemm kernel the BLAS runs, as far as xtnn's own kernels are concerned.
enum class blas_sgemm {
    other,    ///< not OpenBLAS: its own business, xtnn never overrides it
    narrower, ///< OpenBLAS with a kernel narrower than AVX-512 (Haswell's, Zen's, Prescott's)
    avx512,   ///< OpenBLAS with its AVX-512 kernel (SkylakeX's, Cooperlake's, SapphireRapids')
};

/// The sgemm kernel of the BLAS xtnn is linked against: OpenBLAS 0.3.21 has no AVX-512 kernel
/// for some CPUs that have it (AMD's Zen 4 and 5 get Haswell's), and some machines hold it to
/// Haswell's through OPENBLAS_CORETYPE.
inline blas_sgemm linked_sgemm() {
#if XTNN_OPENBLAS_THREADS
    static const blas_sgemm kind = [] {
        const char* name = openblas_get_corename != nullptr ? openblas_get_corename() : nullptr;
        if (name == nullptr) {
            return blas_sgemm::other;
        }
        std::string lower(name);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(c | 0x20); });
        return lower == "skylakex" || lower == "cooperlake" || lower == "sapphirerapids"
                   ? blas_sgemm::avx512
                   : blas_sgemm::narrower;
    }();
    return kind;
#else
    return blas_sgemm::other;
#endif
}

/// xtnn's own sgemm and sgemv kernels where the CPU runs them (AVX-512, active_simd()) beside
/// OpenBLAS, else null. Which products they take is own_sgemm_suits' choice.
inline const product_kernel_set* own_kernels() {
    if (active_simd() != simd_level::avx512 || linked_sgemm() == blas_sgemm::other) {
        return nullptr;
    }
    return simd_products(simd_level::avx512);
}

/// Whether xtnn's sgemm kernels beat `blas`'s on a product of this shape, as measured on the
/// dense layers' products and unfolded convolutions' (resnet18's included), one thread, an
/// AMD Zen 5 (`xtnn_bench_dense --benchmark_filter=product`, and a sweep of m, n and k from 8
/// to 1,024 under OPENBLAS_CORETYPE=Haswell and =SkylakeX; docs/performance.md). Both
/// transposed, or k = 0: BLAS's.
///
/// - Beside OpenBLAS's narrower kernels (1.3-2.1× on the MLPs' products): a tile of rows of A
///   by a row of B needs rows of ≥ 32 columns (a 512-channel layer's 2 × 2 planes, n = 4, ran
///   at half OpenBLAS's speed), one of rows of A by rows of B ≥ 128 terms per sum (a sum of 16
///   at a third).
/// - Beside OpenBLAS's AVX-512 kernel, only where they measured ≥ 1.05× it: every product
///   with B not transposed and rows of ≥ 32 columns, unless A is transposed and has < 64
///   columns (op(A)'s rows: 10-row weight gradients ran at 0.7-0.9×); with B transposed
///   (x·Wᵀ), the few rows of long sums that OpenBLAS packs at a loss (m ≤ 64 and k ≥ 512
///   with n ≥ 64; at m ≤ 32 n up to 1,024: 1.1-1.6×) and the narrow outputs it runs a slow
///   path for (n < 16, m ≥ 128: 1.3-2.4×). Its packed panels win on the rest (x·Wᵀ at m ≥
///   128 and n ≥ 64: 0.6-0.97×).
inline bool own_sgemm_suits(blas_sgemm blas, bool transpose_a, bool transpose_b, std::size_t m,
                            std::size_t n, std::size_t k) {
    if (k == 0 || (transpose_a && transpose_b) || blas == blas_sgemm::other) {
        return false;
    }
    if (blas == blas_sgemm::narrower) {
        return transpose_b ? k >= 128 : n >= 32;
    }
    if (!transpose_b) {
        return n >= 32 && (!transpose_a || m >= 64);
    }
    if (n < 16) {
        return m >= 128 && k >= 128;
    }
    return k >= 512 && n >= 64 && (m <= 32 || (m <= 64 && n <= 128));
}

/// The threads a product may use: OpenBLAS's count (1 inside xtnn's own parallel loops, which
/// hold it there), else 1 (another BLAS threads its own products).
inline std::size_t product_threads() {
#if XTNN_OPENBLAS_THREADS
    if (openblas_get_num_threads != nullptr) {
        return static_cast<std::size_t>(std::max(openblas_get_num_threads(), 1));
    }
#endif
    return 1;
}

/// Splits C (m × n) of a product of depth k over xtnn's threads in parts of ≥ 8 MFLOP each
/// (waking a thread costs tens of microseconds on a busy machine: the MNIST MLP's products at
/// batch 32 stay on one), and calls `part(by_rows, begin, end)` for each, BLAS single-threaded
/// inside. `automatic` splits by rows when C has at least as many rows as columns, else by
/// columns, in parts of whole `row_unit`s of rows or `column_unit`s of columns; `rows` and
/// `columns` split as owned_partition() does. Returns the number of parts. One pool of threads:
/// where OpenBLAS would thread the products of a model whose other products xtnn's threads run,
/// each pool's idle threads spin while the other's work: two threads had run the MNIST MLP's steps
/// at 0.66-0.9× one.
template <class F>
std::size_t split_product(std::size_t m, std::size_t n, std::size_t k, std::size_t row_unit,
                          std::size_t column_unit, product_split how, F&& part) {
    const std::size_t threads = product_threads();
    const bool by_rows = how == product_split::automatic ? m >= n : how == product_split::rows;
    const std::size_t unit = how != product_split::automatic ? owned_unit
                             : by_rows                       ? row_unit
                                                             : column_unit;
    const std::size_t extent = by_rows ? m : n;
    const double flops =
        2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    const auto most = static_cast<std::size_t>(std::max(flops / 8e6, 1.0));
    const partition split((extent + unit - 1) / unit, 1, std::min(threads, most));
    if (split.parts <= 1) {
        const single_threaded_blas blas(threads > 1);
        part(by_rows, std::size_t{0}, extent);
        return 1;
    }
    parallel_for(split, [&](std::size_t first, std::size_t last, std::size_t) {
        part(by_rows, first * unit, std::min(last * unit, extent));
    });
    return split.parts;
}

/// C = alpha op(A) op(B) + beta C by xtnn's kernels, split as split_product does: every value
/// is summed in the same order whatever the split (a tile's edge rows and columns sum as its
/// inner ones do; the kind of tiles is chosen for the whole), so results do not depend on the
/// thread count.
inline std::size_t own_sgemm_run(const product_kernel_set& own, bool ta, bool tb, std::size_t m,
                                 std::size_t n, std::size_t k, float alpha, const float* a,
                                 std::size_t lda, const float* b, std::size_t ldb, float beta,
                                 float* c, std::size_t ldc,
                                 product_split how = product_split::automatic) {
    // Whole tiles (24 rows: 3 of 8, 4 of 6; 48 columns: a strip), chosen for the whole.
    const bool strips = tb && own.transposes(m, n, k);
    return split_product(
        m, n, k, 24, 48, how, [&](bool by_rows, std::size_t begin, std::size_t end) {
            if (by_rows) {
                own.gemm(ta, tb, strips, end - begin, n, k, alpha, a + begin * (ta ? 1 : lda), lda,
                         b, ldb, beta, c + begin * ldc, ldc);
            } else {
                own.gemm(ta, tb, strips, m, end - begin, k, alpha, a, lda,
                         b + begin * (tb ? ldb : 1), ldb, beta, c + begin, ldc);
            }
        });
}

/// y = alpha op(A) x + beta y for a row-major (rows, cols) A: xtnn's own kernel beside
/// OpenBLAS's narrower kernels where it takes the strides (own_kernels), else BLAS gemv. One sample
/// through the MNIST MLP (784 -> 128 -> 10, `mlp_inference/batch:1`, Zen 5): 26.2 -> 4.1 µs where
/// OpenBLAS runs its Prescott kernel (as on Emerald Rapids), 4.7 -> 3.9 µs with its Haswell kernel.
template <std::floating_point T>
void gemv(enum CBLAS_TRANSPOSE trans, int rows, int cols, T alpha, const T* a, int lda, const T* x,
          int incx, T beta, T* y, int incy) {
    if constexpr (std::same_as<T, float>) {
        const auto extent = [](int n) { return static_cast<std::size_t>(n); };
        if (const product_kernel_set* own = own_kernels();
            own != nullptr && linked_sgemm() == blas_sgemm::narrower &&
            own->gemv(trans == CblasTrans, extent(rows), extent(cols), alpha, a, extent(lda), x,
                      extent(incx), beta, y, extent(incy))) {
            return;
        }
    }
    // One pool of threads, as split_product: OpenBLAS's second thread made one sample through
    // the MNIST MLP 1.3-1.5× slower (4.3 -> 5.5-6.4 µs); a product this small gains nothing.
    const single_threaded_blas blas(product_threads() > 1 && 2.0 * rows * cols < 16e6);
    if constexpr (std::same_as<T, float>) {
        cblas_sgemv(CblasRowMajor, trans, rows, cols, alpha, a, lda, x, incx, beta, y, incy);
    } else {
        cblas_dgemv(CblasRowMajor, trans, rows, cols, alpha, a, lda, x, incx, beta, y, incy);
    }
}

/// Row-major GEMM on raw pointers: C (m x n) = alpha op(A) op(B) + beta C, op(A) is (m x k).
///
/// `lda`, `ldb` and `ldc` are the row strides of the stored (untransposed) matrices. No shape
/// checks beyond the BLAS index range: callers check shapes (see xtnn::gemm).
template <std::floating_point T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          product_split how = product_split::automatic) {
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
    // A single row or column of output is a matrix-vector product. OpenBLAS 0.3.21 does not
    // forward such gemm calls to gemv itself, and its gemm path costs ~10x more for them (one
    // sample through a 784 -> 128 layer: 38 µs as gemm, ~3 µs as gemv).
    if (m == 1 || n == 1) {
        const std::size_t length = m == 1 ? n : m, stride = m == 1 ? 1 : ldc;
        if (beta == T(0) || k == 0) {
            // beta = 0 must overwrite C even where it holds NaN (BLAS's scal by 0 may keep
            // it), and gemv returns early when k = 0 without applying beta.
            for (std::size_t i = 0; i < length; ++i) {
                c[i * stride] = beta == T(0) ? T(0) : beta * c[i * stride];
            }
            if (k == 0) {
                return;
            }
        }
        if (m == 1) {
            // cᵀ = op(B)ᵀ op(A)ᵀ: the matrix is B, the vector is A's only row (or column).
            const int incx = transpose_a ? ia : 1;
            if (transpose_b) { // B is (n, k)
                gemv(CblasNoTrans, in, ik, alpha, b, ib, a, incx, beta, c, 1);
            } else { // B is (k, n)
                gemv(CblasTrans, ik, in, alpha, b, ib, a, incx, beta, c, 1);
            }
        } else {
            // c = op(A) op(B): the matrix is A, the vector is B's only column (or row).
            const int incx = transpose_b ? 1 : ib;
            if (transpose_a) { // A is (k, m)
                gemv(CblasTrans, ik, im, alpha, a, ia, b, incx, beta, c, ic);
            } else { // A is (m, k)
                gemv(CblasNoTrans, im, ik, alpha, a, ia, b, incx, beta, c, ic);
            }
        }
        return;
    }
    if constexpr (std::same_as<T, float>) {
        if (const product_kernel_set* own = own_kernels();
            own != nullptr && own_sgemm_suits(linked_sgemm(), transpose_a, transpose_b, m, n, k)) {
            const std::size_t parts = own_sgemm_run(*own, transpose_a, transpose_b, m, n, k, alpha,
                                                    a, lda, b, ldb, beta, c, ldc, how);
            if (how == product_split::rows) {
                note_owned_parts(c, parts);
            }
            return;
        }
    }
    if (beta == T(0)) {
        // OpenBLAS 0.3.21 clears C for beta = 0 in a separate scalar pass (sgemm_beta), which
        // cost 11% of the MNIST training step (the 128 x 784 weight gradient): zeroing C here
        // and accumulating into it is ~10% faster for that product. It also overwrites NaN.
        for (std::size_t r = 0; r < m; ++r) {
            std::fill_n(c + r * ldc, n, T(0));
        }
        beta = T(1);
    }
    static_assert(std::same_as<T, float> || std::same_as<T, double>,
                  "xtnn: gemm supports float and double only (BLAS has no other real type)");
    // OpenBLAS's threads too are xtnn's (split_product); parts of 16 rows or columns, a
    // multiple of its kernels' tiles.
    const std::size_t parts =
        split_product(m, n, k, 16, 16, how, [&](bool by_rows, std::size_t begin, std::size_t end) {
            const int count = static_cast<int>(end - begin);
            const int rows = by_rows ? count : im, cols = by_rows ? in : count;
            const T* a_part = by_rows ? a + begin * (transpose_a ? 1 : lda) : a;
            const T* b_part = by_rows ? b : b + begin * (transpose_b ? ldb : 1);
            T* c_part = c + (by_rows ? begin * ldc : begin);
            if constexpr (std::same_as<T, float>) {
                cblas_sgemm(CblasRowMajor, ta, tb, rows, cols, ik, alpha, a_part, ia, b_part, ib,
                            beta, c_part, ic);
            } else {
                cblas_dgemm(CblasRowMajor, ta, tb, rows, cols, ik, alpha, a_part, ia, b_part, ib,
                            beta, c_part, ic);
            }
        });
    if (how == product_split::rows) {
        note_owned_parts(c, parts);
    }
}

} // namespace detail

/// Matrix product into a preallocated output: `C = alpha * op(A) * op(B) + beta * C`.
///
/// Shapes: op(A) (m, k), op(B) (k, n), C (m, n). C is never resized, so the call does not
/// allocate. No copies either: BLAS's sgemm / dgemm with transpose flags, or xtnn's own kernels
/// on the shapes they run faster (AVX-512), split over xtnn's threads when large.
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
                 c.data(), n, options.split);
}

} // namespace xtnn
