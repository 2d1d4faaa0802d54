/// @file
/// xtnn's vector kernels, compiled for AVX-512 and for AVX2 (kernels_isa.hpp, once per set)
/// and chosen at run time by active_simd(): the direct convolution's correlate (the forward
/// pass and the input gradient) and weight_gradient, max pooling's 2 × 2 windows forward and
/// backward, and (AVX-512 only, in a table of their own: simd_products) sgemm and gemv.
///
/// sgemm's method: almost nothing is packed. When B is not transposed, a tile holds rows of A
/// (broadcast, read along k from either layout) by vectors of a row of B, so C = A·B and
/// Aᵀ·B read A where it is, and B from strips (a block of k by a tile's columns) copied
/// together where several tiles read them; when only B is transposed (a dense layer's forward,
/// x·Wᵀ), both are read along k and a tile holds rows of A by rows of B, each pair a vector
/// of partial sums added up once at the end. Blocks of k keep a tile's operands in the L1
/// cache and blocks of B's rows in the L2 cache. Rows and columns past the edges repeat the
/// last row (never stored) or are masked.
///
/// The convolution's method: every image plane is stored with its padding, as rows of `width`
/// values; a position q = i·width + j of the output then reads the input at q + offset(c, u, v) for
/// every tap, one offset per tap, so a vector of consecutive positions is one unaligned load
/// per tap. Positions whose j lies past the output's width are computed and dropped (their
/// gradients are never read), which costs (kw - 1)·dw of every `width` positions; the others
/// are stored straight into the plain output plane, each vector's kept lanes moved to its
/// front by one permutation and stored under a mask (a compaction). The weight
/// gradient reads the output gradient position by position (channels innermost, a copy) and
/// sums over the output's positions only. Register blocking: a tile holds several output
/// channels by several vectors of positions (correlate), or several vectors of channels by
/// several taps (weight_gradient), in registers for the whole sum.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <xtnn/core/cpu.hpp>

namespace xtnn::detail {

/// Where correlate puts the sums it computes: of the positions q = v·lanes + k (vector v, lane
/// k) of rows of `width`, q = i·width + j, it keeps those with i < rows and j in [first,
/// first + cols) and stores each at i·cols + j - first of its plane (a plain NCHW plane, no
/// copy afterwards). Vector v keeps count[v] lanes, lanes[v·lanes …] in order (the others
/// any), stored from start[v]: consecutive kept positions land on consecutive places.
struct compaction {
    const std::uint32_t* lanes = nullptr; ///< vectors × lanes: the kept lanes first.
    const std::uint32_t* count = nullptr; ///< Kept lanes per vector.
    const std::size_t* start = nullptr;   ///< Where each vector's first kept lane goes.
    /// Every lane kept in order (positions in rows of the output's own width): the sums are
    /// stored as they are, whole vectors but the last (no permute, no mask).
    bool dense = false;
};

/// What correlate does to each sum as it stores it: sum·scale[o] + shift[o] for output o when
/// `scale` is not null (a batch norm in inference, folded into the pass), then max(·, 0) when
/// `rectify` (relu's: NaN and -0 kept). The arrays are indexed as init is.
struct epilogue {
    const float* scale = nullptr; ///< Per output, or null: the sums as they are.
    const float* shift = nullptr; ///< Per output, with `scale`.
    bool rectify = false;         ///< Then relu.

    /// The epilogue of the outputs from `first` on (a block or a thread's share of them).
    epilogue from(std::size_t first) const {
        return scale == nullptr ? *this : epilogue{scale + first, shift + first, rectify};
    }
};

/// Where item k of a sequence lies: at k / length · outer + k % length · inner (a plane's
/// positions, rows of `length`, in a buffer of positions `inner` apart and rows `outer`
/// apart), for transpose.
struct runs {
    std::size_t length; ///< Items per run.
    std::size_t outer;  ///< From one run to the next.
    std::size_t inner;  ///< From one item to the next within a run.

    /// Evenly spaced items, `stride` apart.
    static runs even(std::size_t stride) { return {SIZE_MAX, 0, stride}; }
    /// The places of items [first, first + count), one division for all.
    void offsets(std::size_t first, std::size_t count, std::size_t* out) const {
        std::size_t run = first / length, k = first % length;
        for (std::size_t i = 0; i < count; ++i) {
            out[i] = run * outer + k * inner;
            if (++k == length) {
                k = 0;
                ++run;
            }
        }
    }
};

/// The tables of a compaction (see compaction), built once per geometry.
class compaction_table {
  public:
    /// The tables for `vectors` vectors of `lanes` positions in rows of `width`, keeping
    /// rows [0, rows) and columns [first, first + cols) (nothing to do for the last ones).
    void build(std::size_t lanes, std::size_t vectors, std::size_t width, std::size_t rows,
               std::size_t first, std::size_t cols) {
        const std::array<std::size_t, 6> geometry{lanes, vectors, width, rows, first, cols};
        if (geometry == geometry_) {
            return;
        }
        geometry_ = geometry;
        lanes_.assign(vectors * lanes, 0);
        count_.assign(vectors, 0);
        start_.assign(vectors, 0);
        for (std::size_t v = 0; v < vectors; ++v) {
            std::uint32_t kept = 0;
            for (std::size_t k = 0; k < lanes; ++k) {
                const std::size_t q = v * lanes + k, i = q / width, j = q % width;
                if (i >= rows || j < first || j >= first + cols) {
                    continue;
                }
                if (kept == 0) {
                    start_[v] = i * cols + j - first;
                }
                lanes_[v * lanes + kept++] = static_cast<std::uint32_t>(k);
            }
            count_[v] = kept;
        }
    }
    /// The view correlate reads.
    compaction view() const {
        const bool dense = geometry_[4] == 0 && geometry_[2] == geometry_[5]; // all columns
        return {lanes_.data(), count_.data(), start_.data(), dense};
    }

  private:
    std::array<std::size_t, 6> geometry_{}; // of the tables built (zeros: none)
    std::vector<std::uint32_t> lanes_, count_;
    std::vector<std::size_t> start_;
};

} // namespace xtnn::detail

#if XTNN_X86_KERNELS
#include <immintrin.h>

#define XTNN_ISA avx512
#define XTNN_ISA_TARGET "avx512f,avx2,fma"
#define XTNN_ISA_LANES 16
#include <xtnn/detail/kernels_isa.hpp>
#undef XTNN_ISA
#undef XTNN_ISA_TARGET
#undef XTNN_ISA_LANES

#define XTNN_ISA avx2
#define XTNN_ISA_TARGET "avx2,fma"
#define XTNN_ISA_LANES 8
#include <xtnn/detail/kernels_isa.hpp>
#undef XTNN_ISA
#undef XTNN_ISA_TARGET
#undef XTNN_ISA_LANES
#endif

namespace xtnn::detail {

/// Winograd F(m × m, 3 × 3)'s kernels for one tile size m (see kernels_isa.hpp): a tile of
/// m × m outputs has (m + 2)² points.
struct winograd_kernel_set {
    /// The transforms of the inputs, the filters and the products, and the products.
    void (*input)(const float* in, std::size_t row, std::size_t channels, std::size_t tiles,
                  float* v, std::size_t v_stride);
    void (*multiply)(const float* v, std::size_t v_stride, const float* u, std::size_t u_stride,
                     std::size_t tiles, std::size_t channels, std::size_t filters,
                     std::size_t width, float* m, std::size_t m_stride);
    void (*filter)(const float* g, std::size_t channels, std::size_t filters, float* u,
                   std::size_t u_stride);
    void (*output)(const float* m, std::size_t m_stride, std::size_t filters, std::size_t width,
                   std::size_t tiles, const float* bias, const epilogue& then, float* out,
                   std::size_t row);
    /// The weight gradient's: of the output gradients, the products and the filters.
    void (*gradient)(const float* in, std::size_t row, std::size_t filters, std::size_t tiles,
                     float* d, std::size_t d_stride);
    void (*tile_sums)(const float* d, std::size_t d_stride, const float* v, std::size_t v_stride,
                      std::size_t tiles, std::size_t rows, std::size_t filters,
                      std::size_t channels, bool add, float* m, std::size_t m_stride);
    void (*filter_gradient)(const float* m, std::size_t m_stride, std::size_t filters,
                            std::size_t channels, float* g);
};

/// One instruction set's kernels (see kernels_isa.hpp for what each computes).
struct kernel_set {
    std::size_t lanes; ///< Floats per vector.
    void (*correlate)(const float* in, std::size_t in_sample, std::size_t samples,
                      const std::size_t* offsets, std::size_t taps, const float* weights,
                      std::size_t weight_stride, const std::size_t* weight_at, std::size_t outputs,
                      const float* init, std::size_t count, float* out, std::size_t stride,
                      std::size_t out_sample, const compaction& to, const epilogue& then);
    void (*correlate_rows)(const float* in, std::size_t row, std::size_t taps, const float* weights,
                           std::size_t weight_stride, std::size_t outputs, const float* init,
                           std::size_t count, float* out, std::size_t stride, const epilogue& then);
    void (*copy_rows)(const float* from, std::size_t from_stride, float* to, std::size_t to_stride,
                      std::size_t rows, std::size_t cols);
    void (*weight_gradient)(const float* grads, std::size_t grad_sample, std::size_t channels,
                            const float* in, std::size_t in_sample, std::size_t samples,
                            std::size_t rows, std::size_t cols, std::size_t width,
                            const std::size_t* offsets, std::size_t taps, float* dw);
    void (*row_weight_gradient)(const float* grads, std::size_t grad_stride,
                                std::size_t grad_sample, std::size_t rows, const float* in,
                                std::size_t in_sample, std::size_t samples, std::size_t count,
                                const std::size_t* offsets, std::size_t taps, float* dw,
                                std::size_t dw_stride, float* db);
    bool (*max_pool_stride2)(const float* plane, std::size_t height, std::size_t width,
                             std::size_t kh, std::size_t kw, std::size_t top, std::size_t left,
                             std::size_t oh, std::size_t ow, std::size_t first, std::size_t last,
                             bool rectify, float* out, std::uint32_t* won);
    void (*max_unpool_2x2)(const float* dy, const std::uint32_t* won, const float* pooled,
                           bool rectify, std::size_t oh, std::size_t ow, float* dx, std::size_t h,
                           std::size_t w);
    void (*transpose)(const float* from, const runs& from_runs, std::size_t rows, std::size_t cols,
                      float* to, const runs& to_runs);
    /// Winograd's F(4 × 4, 3 × 3) and F(2 × 2, 3 × 3).
    winograd_kernel_set winograd4, winograd2;
    /// The Winograd kernels of tiles of `tile` × `tile` outputs (4 or 2).
    const winograd_kernel_set& winograd(std::size_t tile) const {
        return tile == 4 ? winograd4 : winograd2;
    }
};

/// xtnn's own sgemm and gemv (see kernels_isa.hpp), AVX-512 only: with AVX2, OpenBLAS's
/// Haswell kernel is as fast. A table of their own, so that a program whose layers only
/// multiply matrices (an MLP) compiles these two and none of the convolution's kernels: the
/// README's quickstart compiled in 17.8 s instead of 22.4 s at -O2 (Zen 5).
struct product_kernel_set {
    /// C = alpha op(A) op(B) + beta C; false for a form it leaves to BLAS. With B transposed,
    /// `strips` chooses the tiles (transposes' answer for the whole product).
    bool (*gemm)(bool trans_a, bool trans_b, bool strips, std::size_t m, std::size_t n,
                 std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                 std::size_t ldb, float beta, float* c, std::size_t ldc);
    /// Whether A·Bᵀ of this shape is faster on transposed strips of B.
    bool (*transposes)(std::size_t m, std::size_t n, std::size_t k);
    /// y = alpha op(A) x + beta y; false for strides it leaves to BLAS.
    bool (*gemv)(bool trans, std::size_t rows, std::size_t cols, float alpha, const float* a,
                 std::size_t lda, const float* x, std::size_t incx, float beta, float* y,
                 std::size_t incy);
};

/// Channel counts correlate's buffers are padded to: every set's correlate block.
inline constexpr std::size_t conv_channel_block = 4;

/// The kernels of `level`; null for portable (no vector kernels of xtnn's own).
inline const kernel_set* simd_kernels(simd_level level) {
#if XTNN_X86_KERNELS
    // correlate computes blocks of conv_channel_block outputs (rows of its output buffer).
    static_assert(avx512::correlate_channels == conv_channel_block &&
                  avx2::correlate_channels == conv_channel_block);
    static constexpr kernel_set wide{
        avx512::lanes,
        &avx512::correlate,
        &avx512::correlate_rows,
        &avx512::copy_rows,
        &avx512::weight_gradient,
        &avx512::row_weight_gradient,
        &avx512::max_pool_stride2,
        &avx512::max_unpool_2x2,
        &avx512::transpose,
        {&avx512::winograd_input<4>, &avx512::winograd_multiply<4>, &avx512::winograd_filter<4>,
         &avx512::winograd_output<4>, &avx512::winograd_gradient<4>, &avx512::winograd_tile_sums<4>,
         &avx512::winograd_filter_gradient<4>},
        {&avx512::winograd_input<2>, &avx512::winograd_multiply<2>, &avx512::winograd_filter<2>,
         &avx512::winograd_output<2>, &avx512::winograd_gradient<2>, &avx512::winograd_tile_sums<2>,
         &avx512::winograd_filter_gradient<2>}};
    static constexpr kernel_set narrow{
        avx2::lanes,
        &avx2::correlate,
        &avx2::correlate_rows,
        &avx2::copy_rows,
        &avx2::weight_gradient,
        &avx2::row_weight_gradient,
        &avx2::max_pool_stride2,
        &avx2::max_unpool_2x2,
        &avx2::transpose,
        {&avx2::winograd_input<4>, &avx2::winograd_multiply<4>, &avx2::winograd_filter<4>,
         &avx2::winograd_output<4>, &avx2::winograd_gradient<4>, &avx2::winograd_tile_sums<4>,
         &avx2::winograd_filter_gradient<4>},
        {&avx2::winograd_input<2>, &avx2::winograd_multiply<2>, &avx2::winograd_filter<2>,
         &avx2::winograd_output<2>, &avx2::winograd_gradient<2>, &avx2::winograd_tile_sums<2>,
         &avx2::winograd_filter_gradient<2>}};
    switch (level) {
    case simd_level::avx512:
        return &wide;
    case simd_level::avx2:
        return &narrow;
    case simd_level::portable:
        break;
    }
#else
    (void)level;
#endif
    return nullptr;
}

/// xtnn's own products for `level`: AVX-512's, else null.
inline const product_kernel_set* simd_products(simd_level level) {
#if XTNN_X86_KERNELS
    static constexpr product_kernel_set wide{&avx512::gemm, &avx512::gemm_outer_transposes,
                                             &avx512::gemv};
    if (level == simd_level::avx512) {
        return &wide;
    }
#else
    (void)level;
#endif
    return nullptr;
}

} // namespace xtnn::detail
