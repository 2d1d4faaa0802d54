/// @file
/// xtnn's vector kernels for one instruction set: the direct convolution's and max
/// pooling's. kernels.hpp includes
/// this file once per set, with XTNN_ISA (the namespace), XTNN_ISA_TARGET (the target
/// attribute's string) and XTNN_ISA_LANES (floats per vector) defined: every function here
/// carries the target attribute, so the code is AVX-512 or AVX2 whatever flags the user
/// compiles with, and runs only where detected_simd() found the set. No include guard, on
/// purpose.
// NOLINTBEGIN(cppcoreguidelines-macro-usage)

#define XTNN_KERNEL __attribute__((target(XTNN_ISA_TARGET))) inline

namespace xtnn::detail::XTNN_ISA {

inline constexpr std::size_t lanes = XTNN_ISA_LANES; ///< Floats per vector.

#if XTNN_ISA_LANES == 16
using reg = __m512;
XTNN_KERNEL reg load(const float* p) {
    return _mm512_loadu_ps(p);
}
XTNN_KERNEL void store(float* p, reg v) {
    _mm512_storeu_ps(p, v);
}
XTNN_KERNEL reg broadcast(float v) {
    return _mm512_set1_ps(v);
}
XTNN_KERNEL reg zero() {
    return _mm512_setzero_ps();
}
XTNN_KERNEL reg fma(reg a, reg b, reg c) {
    return _mm512_fmadd_ps(a, b, c);
}
XTNN_KERNEL reg add(reg a, reg b) {
    return _mm512_add_ps(a, b);
}
XTNN_KERNEL reg mul(reg a, reg b) {
    return _mm512_mul_ps(a, b);
}
XTNN_KERNEL reg sub(reg a, reg b) {
    return _mm512_sub_ps(a, b);
}
/// The first `n` (< lanes) values at p; the others 0, their memory untouched.
XTNN_KERNEL reg load_first(const float* p, std::size_t n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}
/// Stores the first `n` (< lanes) values of v at p, and no other.
XTNN_KERNEL void store_first(float* p, std::size_t n, reg v) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
/// Lane k holds v's lane index[k] (index: lanes values below lanes).
XTNN_KERNEL reg select_lanes(reg v, const std::uint32_t* index) {
    // permutex2var of v with itself: GCC 12's permutexvar trips -Wmaybe-uninitialized.
    return _mm512_permutex2var_ps(v, _mm512_loadu_si512(index), v);
}
/// Lanes [0, n) of a vector (all of them when n >= lanes).
using tail_mask = __mmask16;
XTNN_KERNEL tail_mask first_lanes(std::size_t n) {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1);
}
/// The lanes of `m` at p, the others 0 (their memory untouched).
XTNN_KERNEL reg load_masked(const float* p, tail_mask m) {
    return _mm512_maskz_loadu_ps(m, p);
}
/// Stores the lanes of `m`, and no other.
XTNN_KERNEL void store_masked(float* p, tail_mask m, reg v) {
    _mm512_mask_storeu_ps(p, m, v);
}
/// The lanes `low` of (x, y) plus the lanes `high`.
XTNN_KERNEL reg fold(reg x, reg y, __m512i low, __m512i high) {
    return _mm512_add_ps(_mm512_permutex2var_ps(x, low, y), _mm512_permutex2var_ps(x, high, y));
}
/// The sums of the lanes of a, b, c and d, in that order.
XTNN_KERNEL __m128 sum_lanes(reg a, reg b, reg c, reg d) {
    // Halves added until each vector's sum is one lane (two-source permutes: GCC 12's
    // unpack, extract and cast intrinsics trip -Wmaybe-uninitialized).
    const __m512i low8 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const __m512i high8 = _mm512_add_epi32(low8, _mm512_set1_epi32(8));
    const __m512i low4 =
        _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    const __m512i high4 = _mm512_add_epi32(low4, _mm512_set1_epi32(4));
    const __m512i low2 =
        _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29);
    const __m512i high2 = _mm512_add_epi32(low2, _mm512_set1_epi32(2));
    const __m512i low1 =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i high1 = _mm512_add_epi32(low1, _mm512_set1_epi32(1));
    const reg quads = fold(fold(a, b, low8, high8), fold(c, d, low8, high8), low4, high4);
    const reg pairs = fold(quads, quads, low2, high2);
    return _mm512_maskz_extractf32x4_ps(0xF, fold(pairs, pairs, low1, high1), 0);
}
/// gemm's register tiles: rows of A by vectors of B's columns (24 of 32 registers); rows of A
/// by rows of B, each a vector of partial sums (24).
inline constexpr std::size_t gemm_rows = 8, gemm_vectors = 3;
inline constexpr std::size_t dot_rows = 6, dot_columns = 4;
/// Output channels by vectors of positions held in registers by correlate (24 of 32).
inline constexpr std::size_t correlate_channels = 4, correlate_vectors = 6;
/// row_weight_gradient's tiles: 2 channels by up to 9 taps and the bias sums (20 of 32).
inline constexpr std::size_t row_channels = 2, row_taps = 9;
/// Winograd's products: tiles by vectors of filters in registers (24 of 32).
inline constexpr std::size_t multiply_rows = 6, multiply_vectors = 4;
/// weight_gradient's tiles: up to 4 vectors of channels by 24 / vectors taps (24 of 32).
inline constexpr std::size_t gradient_vectors = 4, gradient_taps = 24;

// Max pooling's primitives.
using index_reg = __m512i; ///< A vector of 32-bit positions.
using lanes_mask = __mmask16;
/// The values 0, 2, 4… (`even`) and 1, 3, 5… (`odd`) of the 2·lanes at p, of which the first
/// `n` (1 to 2·lanes) are read and the others taken as 0.
XTNN_KERNEL void load_pairs(const float* p, std::size_t n, reg& even, reg& odd) {
    const auto low = static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1);
    const auto high = static_cast<__mmask16>(n <= 16   ? 0u
                                             : n >= 32 ? 0xFFFFu
                                                       : (1u << (n - 16)) - 1);
    const reg a = _mm512_maskz_loadu_ps(low, p), b = _mm512_maskz_loadu_ps(high, p + 16);
    even = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
    odd = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}
XTNN_KERNEL lanes_mask greater(reg a, reg b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
}
XTNN_KERNEL lanes_mask less(reg a, reg b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
}
XTNN_KERNEL lanes_mask equal(reg a, reg b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ);
}
/// Lane by lane, `m ? a : b`.
XTNN_KERNEL reg choose(lanes_mask m, reg a, reg b) {
    return _mm512_mask_blend_ps(m, b, a);
}
XTNN_KERNEL index_reg choose(lanes_mask m, index_reg a, index_reg b) {
    return _mm512_mask_blend_epi32(m, b, a);
}
/// Whether a lane of v is NaN.
XTNN_KERNEL bool any_nan(reg v) {
    return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0;
}
/// The lanes of v that are NaN.
XTNN_KERNEL lanes_mask nan_lanes(reg v) {
    return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
}
/// The lanes in a or b.
XTNN_KERNEL lanes_mask either(lanes_mask a, lanes_mask b) {
    return _mm512_kor(a, b);
}
/// Whether a lane is in m.
XTNN_KERNEL bool any(lanes_mask m) {
    return m != 0;
}
/// No lane.
XTNN_KERNEL lanes_mask no_lanes() {
    return 0;
}
/// Lane by lane, a where a > b, else b (b where they are equal, 0 and -0 alike, or either
/// is NaN).
// (maskz with every lane: GCC 12's _mm512_max_ps trips -Wmaybe-uninitialized.)
XTNN_KERNEL reg larger(reg a, reg b) {
    return _mm512_maskz_max_ps(static_cast<__mmask16>(0xFFFF), a, b);
}
/// start, start + 2, start + 4…
XTNN_KERNEL index_reg even_positions(std::uint32_t start) {
    return _mm512_add_epi32(
        _mm512_set1_epi32(static_cast<int>(start)),
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
}
XTNN_KERNEL index_reg add(index_reg a, std::uint32_t b) {
    return _mm512_add_epi32(a, _mm512_set1_epi32(static_cast<int>(b)));
}
/// Stores the first `n` (1 to lanes) positions of v at p.
XTNN_KERNEL void store_positions(std::uint32_t* p, std::size_t n, index_reg v) {
    _mm512_mask_storeu_epi32(p, static_cast<__mmask16>(n >= 16 ? 0xFFFFu : (1u << n) - 1), v);
}
/// start, start + 1, start + 2…
XTNN_KERNEL index_reg positions(std::uint32_t start) {
    return _mm512_add_epi32(
        _mm512_set1_epi32(static_cast<int>(start)),
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}
XTNN_KERNEL lanes_mask equal(index_reg a, index_reg b) {
    return _mm512_cmpeq_epi32_mask(a, b);
}
/// Lane pairs (2k, 2k + 1) take lane k of v.
XTNN_KERNEL __m512i doubling() {
    return _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
}
/// The first `n` (at most lanes / 2) values at p, each twice (lanes 2k and 2k + 1 hold p[k]);
/// the lanes past 2n hold 0, their memory untouched.
// (permutex2var of v with itself: GCC 12's permutexvar trips -Wmaybe-uninitialized.)
XTNN_KERNEL reg load_doubled(const float* p, std::size_t n) {
    const reg v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
    return _mm512_permutex2var_ps(v, doubling(), v);
}
XTNN_KERNEL index_reg load_doubled(const std::uint32_t* p, std::size_t n) {
    const index_reg v = _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1), p);
    return _mm512_permutex2var_epi32(v, doubling(), v);
}
/// The permutes of transpose_block: for each round (blocks of 8, 4, 2, 1 lanes), the lanes of
/// the upper and of the lower row of a pair.
inline constexpr auto transpose_indices = [] {
    std::array<std::array<std::int32_t, 16>, 8> indices{};
    std::size_t round = 0;
    for (std::int32_t d = 8; d >= 1; d /= 2, ++round) {
        for (std::int32_t l = 0; l < 16; ++l) {
            indices[2 * round][static_cast<std::size_t>(l)] = (l & d) != 0 ? 16 + l - d : l;
            indices[2 * round + 1][static_cast<std::size_t>(l)] = (l & d) != 0 ? 16 + l : l + d;
        }
    }
    return indices;
}();
/// Transposes the 16 × 16 block in r (r[i] row i) in place: four rounds that swap the
/// off-diagonal blocks of 8, 4, 2 and 1 lanes (two-source permutes; see select_lanes).
XTNN_KERNEL void transpose_block(reg* r) {
#pragma GCC unroll 4
    for (std::size_t round = 0; round < 4; ++round) {
        const std::size_t d = std::size_t{8} >> round;
        const __m512i upper = _mm512_loadu_si512(transpose_indices[2 * round].data());
        const __m512i lower = _mm512_loadu_si512(transpose_indices[2 * round + 1].data());
#pragma GCC unroll 16
        for (std::size_t a = 0; a < 16; ++a) {
            if ((a & d) == 0) {
                const reg x = r[a], y = r[a + d];
                r[a] = _mm512_permutex2var_ps(x, upper, y);
                r[a + d] = _mm512_permutex2var_ps(x, lower, y);
            }
        }
    }
}
#else
using reg = __m256;
XTNN_KERNEL reg load(const float* p) {
    return _mm256_loadu_ps(p);
}
XTNN_KERNEL void store(float* p, reg v) {
    _mm256_storeu_ps(p, v);
}
XTNN_KERNEL reg broadcast(float v) {
    return _mm256_set1_ps(v);
}
XTNN_KERNEL reg zero() {
    return _mm256_setzero_ps();
}
XTNN_KERNEL reg fma(reg a, reg b, reg c) {
    return _mm256_fmadd_ps(a, b, c);
}
XTNN_KERNEL reg add(reg a, reg b) {
    return _mm256_add_ps(a, b);
}
XTNN_KERNEL reg mul(reg a, reg b) {
    return _mm256_mul_ps(a, b);
}
XTNN_KERNEL reg sub(reg a, reg b) {
    return _mm256_sub_ps(a, b);
}
/// Lanes [0, n) set.
XTNN_KERNEL __m256i first(std::size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// The first `n` (< lanes) values at p; the others 0, their memory untouched.
XTNN_KERNEL reg load_first(const float* p, std::size_t n) {
    return _mm256_maskload_ps(p, first(n));
}
/// Stores the first `n` (< lanes) values of v at p, and no other.
XTNN_KERNEL void store_first(float* p, std::size_t n, reg v) {
    _mm256_maskstore_ps(p, first(n), v);
}
/// Lanes [0, n) of a vector (all of them when n >= lanes).
using tail_mask = __m256i;
XTNN_KERNEL tail_mask first_lanes(std::size_t n) {
    return first(std::min<std::size_t>(n, lanes));
}
/// The lanes of `m` at p, the others 0 (their memory untouched).
XTNN_KERNEL reg load_masked(const float* p, tail_mask m) {
    return _mm256_maskload_ps(p, m);
}
/// Lane k holds v's lane index[k] (index: lanes values below lanes).
XTNN_KERNEL reg select_lanes(reg v, const std::uint32_t* index) {
    return _mm256_permutevar8x32_ps(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index)));
}
/// 12 accumulators, 3 inputs and a broadcast weight: the 16 registers.
inline constexpr std::size_t correlate_channels = 4, correlate_vectors = 3;
/// row_weight_gradient's tiles: 1 channel by up to 9 taps and the bias sum (10 of 16), so
/// that a 9-tap layer reads its output gradient once (2 channels by 4 taps: 0.8-0.9× as fast).
inline constexpr std::size_t row_channels = 1, row_taps = 9;
/// Winograd's products: 12 accumulators, 3 vectors of filters and a broadcast.
inline constexpr std::size_t multiply_rows = 4, multiply_vectors = 3;
/// weight_gradient's tiles: up to 2 vectors of channels by 12 / vectors taps (15 of 16).
inline constexpr std::size_t gradient_vectors = 2, gradient_taps = 12;

// Max pooling's primitives.
using index_reg = __m256i; ///< A vector of 32-bit positions.
using lanes_mask = __m256; ///< All bits set in the lanes that hold.
/// The values 0, 2, 4… (`even`) and 1, 3, 5… (`odd`) of the 2·lanes at p, of which the first
/// `n` (1 to 2·lanes) are read and the others taken as 0.
XTNN_KERNEL void load_pairs(const float* p, std::size_t n, reg& even, reg& odd) {
    const reg a = n >= 8 ? load(p) : load_first(p, n);
    const reg b = n <= 8 ? zero() : n >= 16 ? load(p + 8) : load_first(p + 8, n - 8);
    // Within each half: a0 a2 b0 b2 | a4 a6 b4 b6; then the 64-bit pairs in order.
    even = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))),
                              _MM_SHUFFLE(3, 1, 2, 0)));
    odd = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))),
                              _MM_SHUFFLE(3, 1, 2, 0)));
}
XTNN_KERNEL lanes_mask greater(reg a, reg b) {
    return _mm256_cmp_ps(a, b, _CMP_GT_OQ);
}
XTNN_KERNEL lanes_mask less(reg a, reg b) {
    return _mm256_cmp_ps(a, b, _CMP_LT_OQ);
}
XTNN_KERNEL lanes_mask equal(reg a, reg b) {
    return _mm256_cmp_ps(a, b, _CMP_EQ_OQ);
}
/// Lane by lane, `m ? a : b`.
XTNN_KERNEL reg choose(lanes_mask m, reg a, reg b) {
    return _mm256_blendv_ps(b, a, m);
}
XTNN_KERNEL index_reg choose(lanes_mask m, index_reg a, index_reg b) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), m));
}
/// Whether a lane of v is NaN.
XTNN_KERNEL bool any_nan(reg v) {
    return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0;
}
/// The lanes of v that are NaN.
XTNN_KERNEL lanes_mask nan_lanes(reg v) {
    return _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
}
/// The lanes in a or b.
XTNN_KERNEL lanes_mask either(lanes_mask a, lanes_mask b) {
    return _mm256_or_ps(a, b);
}
/// Whether a lane is in m.
XTNN_KERNEL bool any(lanes_mask m) {
    return _mm256_movemask_ps(m) != 0;
}
/// No lane.
XTNN_KERNEL lanes_mask no_lanes() {
    return _mm256_setzero_ps();
}
/// Lane by lane, a where a > b, else b (b where they are equal, 0 and -0 alike, or either
/// is NaN).
XTNN_KERNEL reg larger(reg a, reg b) {
    return _mm256_max_ps(a, b);
}
/// start, start + 2, start + 4…
XTNN_KERNEL index_reg even_positions(std::uint32_t start) {
    return _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(start)),
                            _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
}
XTNN_KERNEL index_reg add(index_reg a, std::uint32_t b) {
    return _mm256_add_epi32(a, _mm256_set1_epi32(static_cast<int>(b)));
}
/// Stores the first `n` (1 to lanes) positions of v at p.
XTNN_KERNEL void store_positions(std::uint32_t* p, std::size_t n, index_reg v) {
    if (n >= 8) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    } else {
        _mm256_maskstore_epi32(reinterpret_cast<int*>(p), first(n), v);
    }
}
/// start, start + 1, start + 2…
XTNN_KERNEL index_reg positions(std::uint32_t start) {
    return _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(start)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
XTNN_KERNEL lanes_mask equal(index_reg a, index_reg b) {
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b));
}
/// Lane pairs (2k, 2k + 1) take lane k of v.
XTNN_KERNEL __m256i doubling() {
    return _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
}
/// The first `n` (at most lanes / 2) values at p, each twice (lanes 2k and 2k + 1 hold p[k]);
/// the lanes past 2n hold 0, their memory untouched.
XTNN_KERNEL reg load_doubled(const float* p, std::size_t n) {
    return _mm256_permutevar8x32_ps(load_first(p, n), doubling());
}
XTNN_KERNEL index_reg load_doubled(const std::uint32_t* p, std::size_t n) {
    return _mm256_permutevar8x32_epi32(
        _mm256_maskload_epi32(reinterpret_cast<const int*>(p), first(n)), doubling());
}
/// Transposes the 8 × 8 block in r (r[i] row i) in place: three rounds that swap the
/// off-diagonal blocks of 4, 2 and 1 lanes.
XTNN_KERNEL void transpose_block(reg* r) {
    for (int a = 0; a < 4; ++a) {
        const reg x = r[a], y = r[a + 4];
        r[a] = _mm256_permute2f128_ps(x, y, 0x20);
        r[a + 4] = _mm256_permute2f128_ps(x, y, 0x31);
    }
    for (int a : {0, 1, 4, 5}) {
        const reg x = r[a], y = r[a + 2];
        r[a] = _mm256_shuffle_ps(x, y, 0x44);
        r[a + 2] = _mm256_shuffle_ps(x, y, 0xEE);
    }
    for (int a : {0, 2, 4, 6}) {
        const reg x = r[a], y = r[a + 1];
        r[a] = _mm256_blend_ps(x, _mm256_moveldup_ps(y), 0xAA);
        r[a + 1] = _mm256_blend_ps(_mm256_movehdup_ps(x), y, 0xAA);
    }
}
#endif

/// Keeps v in a register: GCC would otherwise fold a load that several FMAs use into each of
/// them as a memory operand, loading it again each time. The tiles then wait on loads:
/// gemm_dot's (28 loads for 24 FMAs: 110 rather than 160 GFLOP/s with -march=native),
/// correlate_rows' (a tap's values loaded once per filter: resnet18's inference at batch 8
/// on 64 × 64 images ran 1.47× as fast with them kept, on Zen 5) and row_weight_gradient's
/// (a first layer's weight gradient 1.42×). Not where registers are short: correlate's tiles
/// of 6 vectors then spill (resnet18 on 224 × 224 images, 0.9×).
XTNN_KERNEL void in_register(reg& v) {
    asm("" : "+v"(v));
}

/// to[at(j, to_runs) + i] = from[at(i, from_runs) + j] for i < rows and j < cols, touching
/// nothing else, where at(k, r) = k / r.length · r.outer + k % r.length · r.inner: the
/// transposes between NCHW planes (a plane's h · w positions in a row) and positions of
/// channels (positions in runs of w, rows of positions `outer` apart). A whole plane at a
/// time, so that loads and stores are whole vectors but at a plane's end: a call per row of
/// 11 or 13 positions, with masked loads and stores, took 44 % of the Keras convnet's 32 → 64
/// layer's Winograd backward at batch 128 on Zen 5. A row narrower than a vector is read
/// whole where the next row follows it in place.
XTNN_KERNEL void transpose(const float* from, const runs& from_runs, std::size_t rows,
                           std::size_t cols, float* to, const runs& to_runs) {
    // Rows in one run: the gap after a row's cols values leads to the next row, readable.
    const bool plain = from_runs.length >= rows;
    std::size_t line[lanes], place[lanes]; // a block's rows in from, its columns in to
    for (std::size_t i0 = 0; i0 < rows; i0 += lanes) {
        const std::size_t height = std::min(lanes, rows - i0);
        from_runs.offsets(i0, height, line);
        for (std::size_t j0 = 0; j0 < cols; j0 += lanes) {
            const std::size_t width = std::min(lanes, cols - j0);
            const bool room = plain && from_runs.inner >= j0 + lanes; // before the next row
            reg r[lanes];
            for (std::size_t i = 0; i < lanes; ++i) {
                if (i >= height) {
                    r[i] = zero();
                    continue;
                }
                const float* p = from + line[i] + j0;
                r[i] = width == lanes || (room && i + 1 < height) ? load(p) : load_first(p, width);
            }
            transpose_block(r);
            to_runs.offsets(j0, width, place);
            for (std::size_t j = 0; j < width; ++j) {
                if (height == lanes) {
                    store(to + place[j] + i0, r[j]);
                } else {
                    store_first(to + place[j] + i0, height, r[j]);
                }
            }
        }
    }
}

/// to[r·to_stride + j] = from[r·from_stride + j] for r < rows and j < cols, touching nothing
/// else: the copies between plain planes and the kernels' padded rows (rows of a few dozen
/// values, where a memcpy call per row costs more than the copy).
XTNN_KERNEL void copy_rows(const float* from, std::size_t from_stride, float* to,
                           std::size_t to_stride, std::size_t rows, std::size_t cols) {
    const std::size_t full = cols / lanes * lanes, rest = cols - full;
    for (std::size_t r = 0; r < rows; ++r, from += from_stride, to += to_stride) {
        for (std::size_t j = 0; j < full; j += lanes) {
            store(to + j, load(from + j));
        }
        if (rest > 0) {
            store_first(to + full, rest, load_first(from + full, rest));
        }
    }
}

/// The weight rows of outputs [o, o + correlate_channels) (the last output's again past
/// `outputs`), each weight_stride apart from `weights`.
XTNN_KERNEL void filter_rows(const float* weights, std::size_t weight_stride, std::size_t outputs,
                             std::size_t o, const float** rows) {
    for (std::size_t i = 0; i < correlate_channels; ++i) {
        rows[i] = weights + std::min(o + i, outputs - 1) * weight_stride;
    }
}

/// One tap of a correlate tile: acc[o][v] += w[o][at] · values[v].
template <std::size_t V>
__attribute__((always_inline)) XTNN_KERNEL void
tap_products(reg (&acc)[correlate_channels][V], const reg* values, const float* const* w,
             std::size_t at) {
#pragma GCC unroll 8
    for (std::size_t o = 0; o < correlate_channels; ++o) {
        const reg weight = broadcast(w[o][at]);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            acc[o][v] = fma(weight, values[v], acc[o][v]);
        }
    }
}

/// A sum of output o as `then` leaves it (see xtnn::detail::epilogue).
__attribute__((always_inline)) XTNN_KERNEL reg finished(reg value, const epilogue& then,
                                                        std::size_t o) {
    if (then.scale != nullptr) {
        value = fma(value, broadcast(then.scale[o]), broadcast(then.shift[o]));
    }
    return then.rectify ? choose(less(value, zero()), zero(), value) : value;
}

/// One tile of correlate: `correlate_channels` outputs (weights w[o][weight_at[k]] for tap k,
/// the first `live` stored, `then` applied) by `V` vectors of positions, in registers for the
/// whole sum over the taps.
/// Vector v reads the input at in[v] + offsets[k] when `Gathered` (vectors of several
/// samples: a deep layer's small planes), else at in[0] + v·lanes + offsets[k] (consecutive
/// vectors of one sample, addressed from one register); it is vector number vector[v] of its
/// sample, whose positions `to` places (see xtnn::detail::compaction) from out[v] + o·stride.
template <std::size_t V, bool Gathered>
XTNN_KERNEL void correlate_tile(const float* const* in, const std::size_t* offsets,
                                std::size_t taps, const float* const* weights,
                                const std::size_t* weight_at, const float* init, std::size_t live,
                                float* const* out, const std::size_t* vector, std::size_t stride,
                                const compaction& to, const epilogue& then) {
    constexpr std::size_t channels = correlate_channels;
    reg acc[channels][V];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        const reg start = init != nullptr ? broadcast(init[o]) : zero();
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            acc[o][v] = start;
        }
    }
    const float* w[channels];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        w[o] = weights[o];
    }
    const float* x[Gathered ? V : 1];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < (Gathered ? V : 1); ++v) {
        x[v] = in[v];
    }
    for (std::size_t k = 0; k < taps; ++k) {
        const std::size_t offset = offsets[k];
        reg values[V];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            values[v] = Gathered ? load(x[v] + offset) : load(x[0] + offset + v * lanes);
        }
        tap_products(acc, values, w, weight_at[k]);
    }
    if (!Gathered && to.dense) {
        // One sample's consecutive vectors, stored as they are: whole vectors but the plane's
        // last. What the stores need is read before the first (a vector store may alias
        // anything: GCC read `to` and `then` again after each, 20 instructions a sum, as
        // many as a first layer's 9 taps of products).
        float* const base = out[0] + to.start[vector[0]];
        const std::size_t last = to.count[vector[V - 1]];
        const epilogue apply = then;
#pragma GCC unroll 8
        for (std::size_t o = 0; o < channels; ++o) {
            if (o >= live) {
                break;
            }
#pragma GCC unroll 8
            for (std::size_t v = 0; v < V; ++v) {
                const reg sum = finished(acc[o][v], apply, o);
                float* p = base + o * stride + v * lanes;
                if (v + 1 < V || last == lanes) {
                    store(p, sum);
                } else {
                    store_first(p, last, sum);
                }
            }
        }
        return;
    }
#pragma GCC unroll 8
    for (std::size_t v = 0; v < V; ++v) {
        const std::size_t at = vector[v];
        const std::uint32_t* index = to.lanes + at * lanes;
        float* first = out[v] + to.start[at];
#pragma GCC unroll 8
        for (std::size_t o = 0; o < channels; ++o) {
            if (o >= live) {
                continue;
            }
            const reg sum = finished(acc[o][v], then, o);
            if (to.dense && to.count[at] == lanes) {
                store(first + o * stride, sum);
            } else if (to.dense) {
                store_first(first + o * stride, to.count[at], sum);
            } else {
                store_first(first + o * stride, to.count[at], select_lanes(sum, index));
            }
        }
    }
}

/// Calls `tile.template operator()<V>()` for V = width (1 to correlate_vectors).
template <std::size_t V = 1, class Tile>
XTNN_KERNEL void tile_of_width(std::size_t width, Tile& tile) {
    if constexpr (V < correlate_vectors) {
        if (width > V) {
            tile_of_width<V + 1>(width, tile);
            return;
        }
    }
    tile.template operator()<V>();
}

/// Covers `n` vectors with as few of correlate's tiles as fit (correlate_vectors wide at
/// most), of widths as even as can be: `tile.template operator()<V>()` for each in turn,
/// which takes the next V vectors. Uneven widths cost: 4 vectors as a 3 and a 1 load the
/// weights twice, the 1 at four FMAs per broadcast (a 7 × 7 plane of one image is 4 vectors).
template <class Tile>
XTNN_KERNEL void by_even_tiles(std::size_t n, Tile& tile) {
    while (n > 0) {
        const std::size_t tiles = (n + correlate_vectors - 1) / correlate_vectors;
        const std::size_t width = (n + tiles - 1) / tiles;
        tile_of_width(width, tile);
        n -= width;
    }
}

/// For each sample s < samples, reading in + s·in_sample and writing out + s·out_sample:
/// out[o·stride + p] = init[o] + Σ_k weights[o·weight_stride + weight_at[k]] · in[q + offsets[k]]
/// for o < outputs and the positions q < count (rounded up to whole vectors) that `to` keeps,
/// each to its place p (see xtnn::detail::compaction); nothing else of out is written. The
/// weights are read where they are, in the conv2d weight's own layout (out, in, kh, kw):
/// rows of taps for the forward pass (weight_at[k] = k), the kernel turned and its filters and
/// channels swapped for the input gradient; nothing is packed or copied. init (null for 0)
/// holds `outputs` rounded up to correlate_channels; `then` is applied to each sum as it is
/// stored (see xtnn::detail::epilogue). The caller keeps every read inside its buffers.
XTNN_KERNEL void correlate(const float* in, std::size_t in_sample, std::size_t samples,
                           const std::size_t* offsets, std::size_t taps, const float* weights,
                           std::size_t weight_stride, const std::size_t* weight_at,
                           std::size_t outputs, const float* init, std::size_t count, float* out,
                           std::size_t stride, std::size_t out_sample, const compaction& to,
                           const epilogue& then) {
    const std::size_t vectors = (count + lanes - 1) / lanes;
    // Channel block o's weights (the last output's again past `outputs`) and first sums.
    const auto block = [&](std::size_t o, const float** rows) {
        filter_rows(weights, weight_stride, outputs, o, rows);
        return init != nullptr ? init + o : nullptr;
    };
    if (vectors >= 2 * correlate_vectors) {
        // Large planes: sample by sample, every channel block on one band of positions before
        // the next, so that a band's input stays in the L1 cache for every block. Bands of
        // widths as even as can be (see by_even_tiles): a 26 × 26 output's 43 vectors ended
        // in a band of one.
        const std::size_t bands = (vectors + correlate_vectors - 1) / correlate_vectors;
        for (std::size_t s = 0; s < samples; ++s) {
            for (std::size_t band = 0, v = 0; band < bands; ++band) {
                const std::size_t end = v + (vectors - v + bands - band - 1) / (bands - band);
                for (std::size_t o = 0; o < outputs; o += correlate_channels) {
                    const float* rows[correlate_channels];
                    const float* start = block(o, rows);
                    std::size_t first = v;
                    const auto tile = [&]<std::size_t V>() {
                        const float* from = in + s * in_sample + first * lanes;
                        float* base[V];
                        std::size_t number[V];
                        for (std::size_t u = 0; u < V; ++u) {
                            base[u] = out + s * out_sample + o * stride;
                            number[u] = first + u;
                        }
                        correlate_tile<V, false>(&from, offsets, taps, rows, weight_at, start,
                                                 outputs - o, base, number, stride, to,
                                                 then.from(o));
                        first += V;
                    };
                    by_even_tiles(end - v, tile);
                }
                v = end;
            }
        }
        return;
    }
    // Small planes (deep layers): few positions use each weight, so tiles take vectors of
    // several samples (numbered sample by sample), and each block of weights serves a group
    // of samples while it is in the cache; a group's inputs take at most 256 KB.
    const std::size_t group =
        std::max<std::size_t>(1, (std::size_t{1} << 16) / std::max<std::size_t>(in_sample, 1));
    for (std::size_t s0 = 0; s0 < samples; s0 += group) {
        const std::size_t n = std::min(samples - s0, group) * vectors;
        for (std::size_t o = 0; o < outputs; o += correlate_channels) {
            const float* rows[correlate_channels];
            const float* start = block(o, rows);
            std::size_t s = s0, j = 0; // the next tile starts at sample s's vector j
            const auto tile = [&]<std::size_t V>() {
                const float* from[V];
                float* base[V];
                std::size_t number[V];
                for (std::size_t v = 0; v < V; ++v) {
                    from[v] = in + s * in_sample + j * lanes;
                    base[v] = out + s * out_sample + o * stride;
                    number[v] = j;
                    if (++j == vectors) {
                        j = 0;
                        ++s;
                    }
                }
                correlate_tile<V, true>(from, offsets, taps, rows, weight_at, start, outputs - o,
                                        base, number, stride, to, then.from(o));
            };
            by_even_tiles(n, tile);
        }
    }
}

/// One tile of correlate_rows: `correlate_channels` outputs (weights w[o][k], the first
/// `live` stored) by `V` vectors of positions, over taps [k0, k1) of `taps`: the sums start
/// from init (or 0) at k0 = 0, else from out, where they go back as they are until the last
/// block, which applies `then` as it stores them.
template <std::size_t V>
XTNN_KERNEL void rows_tile(const float* in, std::size_t row, std::size_t k0, std::size_t k1,
                           std::size_t taps, const float* const* w, const float* init,
                           std::size_t live, float* out, std::size_t stride, const epilogue& then) {
    constexpr std::size_t channels = correlate_channels;
    reg acc[channels][V];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        const reg start = init != nullptr ? broadcast(init[o]) : zero();
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            acc[o][v] = k0 == 0 || o >= live ? start : load(out + o * stride + v * lanes);
        }
    }
    for (std::size_t k = k0; k < k1; ++k) {
        reg values[V];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < V; ++v) {
            values[v] = load(in + k * row + v * lanes);
            in_register(values[v]);
        }
        tap_products(acc, values, w, k);
    }
    const bool last = k1 == taps;
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        if (o < live) {
#pragma GCC unroll 8
            for (std::size_t v = 0; v < V; ++v) {
                store(out + o * stride + v * lanes,
                      last ? finished(acc[o][v], then, o) : acc[o][v]);
            }
        }
    }
}

/// out[o·stride + p] = init[o] + Σ_k weights[o·weight_stride + k] · in[k·row + p] for
/// o < outputs and p < count rounded up to whole vectors, `then` applied (init and `then` as
/// correlate's): correlate over rows of positions packed one after the other (a chunk's
/// small planes, one row per tap). The taps go in blocks whose rows take 24 KiB, read from
/// the L1 cache by every block of outputs in turn (whole rows of a deep layer's thousands of
/// taps came from L2 for each block of outputs and each tile); the sums wait in out between
/// blocks, each still adding its products in the order of k, so that its bits are those of
/// correlate's sums.
XTNN_KERNEL void correlate_rows(const float* in, std::size_t row, std::size_t taps,
                                const float* weights, std::size_t weight_stride,
                                std::size_t outputs, const float* init, std::size_t count,
                                float* out, std::size_t stride, const epilogue& then) {
    const std::size_t vectors = (count + lanes - 1) / lanes;
    const std::size_t block = std::max<std::size_t>(1, 6 * 1024 / (vectors * lanes));
    for (std::size_t k0 = 0; k0 < taps; k0 += block) {
        const std::size_t k1 = std::min(taps, k0 + block);
        for (std::size_t o = 0; o < outputs; o += correlate_channels) {
            const float* w[correlate_channels];
            filter_rows(weights, weight_stride, outputs, o, w);
            const float* start = init != nullptr ? init + o : nullptr;
            // The next block of outputs' weights for these taps, into L1 while this block
            // computes: a block of taps reads a short run of each of a layer's rows, which
            // the prefetchers do not follow (the weights, megabytes, come from memory:
            // resnet18's inference at batch 8 on 64 × 64 images ran 0.92× as fast packed as
            // unpacked without it, 1.20× with).
            if (o + correlate_channels < outputs) {
                const float* next[correlate_channels];
                filter_rows(weights, weight_stride, outputs, o + correlate_channels, next);
                for (const float* r : next) {
                    for (std::size_t k = k0; k < k1; k += 64 / sizeof(float)) { // a line
                        _mm_prefetch(reinterpret_cast<const char*>(r + k), _MM_HINT_T0);
                    }
                }
            }
            std::size_t first = 0;
            const auto tile = [&]<std::size_t V>() {
                rows_tile<V>(in + first * lanes, row, k0, k1, taps, w, start, outputs - o,
                             out + o * stride + first * lanes, stride, then.from(o));
                first += V;
            };
            by_even_tiles(vectors, tile);
        }
    }
}

/// One tile of weight_gradient: `R` vectors of channels by `T` taps, in registers for the
/// whole sum.
template <std::size_t R, std::size_t T>
XTNN_KERNEL void gradient_tile(const float* grads, std::size_t grad_sample, std::size_t channels,
                               const float* in, std::size_t in_sample, std::size_t samples,
                               std::size_t rows, std::size_t cols, std::size_t width,
                               const std::size_t* offsets, float* dw) {
    // Sample by sample into dw: sums of one image's positions in registers, which keeps float
    // rounding as small as a per-sample product's.
    for (std::size_t s = 0; s < samples; ++s) {
        reg acc[R][T];
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 24
            for (std::size_t t = 0; t < T; ++t) {
                acc[r][t] = zero();
            }
        }
        const float* g = grads + s * grad_sample;
        for (std::size_t i = 0; i < rows; ++i) {
            const float* x = in + s * in_sample + i * width;
            for (std::size_t j = 0; j < cols; ++j, g += channels) {
                reg d[R];
#pragma GCC unroll 8
                for (std::size_t r = 0; r < R; ++r) {
                    d[r] = load(g + r * lanes);
                }
#pragma GCC unroll 24
                for (std::size_t t = 0; t < T; ++t) {
                    const reg value = broadcast(x[j + offsets[t]]);
#pragma GCC unroll 8
                    for (std::size_t r = 0; r < R; ++r) {
                        acc[r][t] = fma(d[r], value, acc[r][t]);
                    }
                }
            }
        }
#pragma GCC unroll 24
        for (std::size_t t = 0; t < T; ++t) {
#pragma GCC unroll 8
            for (std::size_t r = 0; r < R; ++r) {
                float* out = dw + t * channels + r * lanes;
                store(out, add(load(out), acc[r][t]));
            }
        }
    }
}

/// The taps [0, taps) of one block of `R` vectors of channels: tiles of gradient_taps / R
/// taps (at most 12), then of a half and a quarter as many, then of one (a few tile widths:
/// each is compiled in every program that uses conv2d).
template <std::size_t R>
XTNN_KERNEL void gradient_taps_of(std::size_t taps, const float* grads, std::size_t grad_sample,
                                  std::size_t channels, const float* in, std::size_t in_sample,
                                  std::size_t samples, std::size_t rows, std::size_t cols,
                                  std::size_t width, const std::size_t* offsets, float* dw) {
    const auto tiles = [&]<std::size_t T>(std::size_t& t) {
        for (; t + T <= taps; t += T) {
            gradient_tile<R, T>(grads, grad_sample, channels, in, in_sample, samples, rows, cols,
                                width, offsets + t, dw + t * channels);
        }
    };
    constexpr std::size_t most = std::min<std::size_t>(gradient_taps / R, 12);
    std::size_t t = 0;
    tiles.template operator()<most>(t);
    if constexpr (most / 2 > 1) {
        tiles.template operator()<most / 2>(t);
    }
    if constexpr (most / 4 > 1) {
        tiles.template operator()<most / 4>(t);
    }
    tiles.template operator()<1>(t);
}

/// dw[t·channels + o] += Σ_s Σ_{i < rows, j < cols} grads[s·grad_sample + (i·cols + j)·channels
/// + o] · in[s·in_sample + i·width + j + offsets[t]] for t < taps and o < channels (a multiple
/// of lanes): the weight gradient, transposed, from the output gradients stored position by
/// position (channels innermost). Vectors of channels by taps in registers, so no horizontal
/// sum and no position outside the output.
XTNN_KERNEL void weight_gradient(const float* grads, std::size_t grad_sample, std::size_t channels,
                                 const float* in, std::size_t in_sample, std::size_t samples,
                                 std::size_t rows, std::size_t cols, std::size_t width,
                                 const std::size_t* offsets, std::size_t taps, float* dw) {
    const std::size_t vectors = channels / lanes;
    std::size_t v = 0;
    for (; v + gradient_vectors <= vectors; v += gradient_vectors) {
        gradient_taps_of<gradient_vectors>(taps, grads + v * lanes, grad_sample, channels, in,
                                           in_sample, samples, rows, cols, width, offsets,
                                           dw + v * lanes);
    }
    if constexpr (gradient_vectors > 2) {
        for (; v + 2 <= vectors; v += 2) {
            gradient_taps_of<2>(taps, grads + v * lanes, grad_sample, channels, in, in_sample,
                                samples, rows, cols, width, offsets, dw + v * lanes);
        }
    }
    for (; v < vectors; ++v) {
        gradient_taps_of<1>(taps, grads + v * lanes, grad_sample, channels, in, in_sample, samples,
                            rows, cols, width, offsets, dw + v * lanes);
    }
}

/// The products of row_gradient_tile's vector of positions at q: acc[o][t] += g[o][q] ·
/// x[t][q] (and with Bias, bias[o] += g[o][q]), over all the lanes, or (Masked) those of
/// `rest`, the others 0 in both factors (what lies past the plane is never multiplied).
template <std::size_t T, bool Bias, bool Masked>
__attribute__((always_inline)) XTNN_KERNEL void
row_products(reg (&acc)[row_channels][T], reg (&bias)[row_channels], const float* const* g,
             const float* const* x, std::size_t q, tail_mask rest) {
    reg d[row_channels];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < row_channels; ++o) {
        d[o] = Masked ? load_masked(g[o] + q, rest) : load(g[o] + q);
        if constexpr (Bias) {
            bias[o] = add(bias[o], d[o]);
        }
    }
#pragma GCC unroll 12
    for (std::size_t t = 0; t < T; ++t) {
        reg value = Masked ? load_masked(x[t] + q, rest) : load(x[t] + q);
        in_register(value);
#pragma GCC unroll 8
        for (std::size_t o = 0; o < row_channels; ++o) {
            acc[o][t] = fma(d[o], value, acc[o][t]);
        }
    }
}

/// The sum of v's lanes.
XTNN_KERNEL float lane_total(reg v) {
    alignas(64) float partial[lanes];
    store(partial, v);
    float total = 0;
    for (std::size_t l = 0; l < lanes; ++l) {
        total += partial[l];
    }
    return total;
}

/// One tile of row_weight_gradient: `row_channels` channels (the first `live` stored; the
/// others read the last live one's gradients again) by `T` taps, and with Bias the channels'
/// sums into db; each sum a vector of partial sums over positions, added across the lanes at
/// the end.
template <std::size_t T, bool Bias>
XTNN_KERNEL void row_gradient_tile(const float* grads, std::size_t grad_stride,
                                   std::size_t grad_sample, const float* in, std::size_t in_sample,
                                   std::size_t samples, std::size_t count,
                                   const std::size_t* offsets, std::size_t live, float* dw,
                                   std::size_t dw_stride, float* db) {
    constexpr std::size_t channels = row_channels;
    reg acc[channels][T], bias[channels];
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        bias[o] = zero();
#pragma GCC unroll 12
        for (std::size_t t = 0; t < T; ++t) {
            acc[o][t] = zero();
        }
    }
    const std::size_t full = count / lanes * lanes;
    const tail_mask rest = first_lanes(count - full);
    // The whole vectors of every sample, then (apart: GCC would otherwise keep the sums in
    // memory) the last one's lanes.
    const float* g[channels];
    const float* x[T];
    const auto sample = [&](std::size_t s) {
#pragma GCC unroll 8
        for (std::size_t o = 0; o < channels; ++o) {
            g[o] = grads + s * grad_sample + std::min(o, live - 1) * grad_stride;
        }
#pragma GCC unroll 12
        for (std::size_t t = 0; t < T; ++t) {
            x[t] = in + s * in_sample + offsets[t];
        }
    };
    for (std::size_t s = 0; s < samples; ++s) {
        sample(s);
        // The next sample's output gradients, a line per vector: each of its planes is read
        // once, and its short rows (42 lines at 26 × 26) came from memory a line at a time.
        const bool next = s + 1 < samples;
        for (std::size_t q = 0; q < full; q += lanes) {
#pragma GCC unroll 8
            for (std::size_t o = 0; o < channels && next; ++o) {
                _mm_prefetch(reinterpret_cast<const char*>(g[o] + grad_sample + q), _MM_HINT_T0);
            }
            row_products<T, Bias, false>(acc, bias, g, x, q, rest);
        }
    }
    for (std::size_t s = 0; s < samples && full < count; ++s) {
        sample(s);
        row_products<T, Bias, true>(acc, bias, g, x, full, rest);
    }
    // (Unrolled, with constant indices: a loop up to `live` kept the sums in memory.)
#pragma GCC unroll 8
    for (std::size_t o = 0; o < channels; ++o) {
        if (o >= live) {
            break;
        }
#pragma GCC unroll 12
        for (std::size_t t = 0; t < T; ++t) {
            dw[o * dw_stride + t] += lane_total(acc[o][t]);
        }
        if constexpr (Bias) {
            db[o] += lane_total(bias[o]);
        }
    }
}

/// dw[o·dw_stride + t] += Σ_s Σ_{q < count} grads[s·grad_sample + o·grad_stride + q] ·
/// in[s·in_sample + q + offsets[t]] for o < rows and t < taps, and db[o] += Σ_s Σ_q
/// grads[s·grad_sample + o·grad_stride + q] unless db is null: the weight and bias gradients
/// from the output gradient's planes as they are (positions in rows of the output's width)
/// and the input unfolded to match (rows shifted by the taps' offsets, see conv2d's
/// unfold_taps), by vectors of positions, channels by taps in registers. For few taps (a first
/// layer's), where transposing the output gradient for weight_gradient would cost more than
/// the sums. Tiles of row_channels channels by up to row_taps taps (and the bias), so that a
/// layer of 9 taps reads its output gradient once (4 channels by 6 and 3 taps had read it
/// twice, and the bias sums a third time: 37 % of the time in a separate pass).
XTNN_KERNEL void row_weight_gradient(const float* grads, std::size_t grad_stride,
                                     std::size_t grad_sample, std::size_t rows, const float* in,
                                     std::size_t in_sample, std::size_t samples, std::size_t count,
                                     const std::size_t* offsets, std::size_t taps, float* dw,
                                     std::size_t dw_stride, float* db) {
    for (std::size_t o = 0; o < rows; o += row_channels) {
        bool first = db != nullptr; // the block's bias sums, with its first tile
        const auto tiles = [&]<std::size_t T>(std::size_t& t) {
            for (; t + T <= taps; t += T) {
                const auto tile =
                    first ? &row_gradient_tile<T, true> : &row_gradient_tile<T, false>;
                tile(grads + o * grad_stride, grad_stride, grad_sample, in, in_sample, samples,
                     count, offsets + t, rows - o, dw + o * dw_stride + t, dw_stride,
                     first ? db + o : nullptr);
                first = false;
            }
        };
        std::size_t t = 0;
        tiles.template operator()<row_taps>(t);
        tiles.template operator()<row_taps / 2>(t);
        tiles.template operator()<1>(t);
    }
}

/// Stores the first `n` (1 to lanes) maxima of `best` at p, rectified (max(·, 0), NaN and -0
/// kept) when `rectify`.
XTNN_KERNEL void store_pooled(float* p, std::size_t n, reg best, bool rectify) {
    if (rectify) {
        best = choose(less(best, zero()), zero(), best);
    }
    if (n == lanes) {
        store(p, best);
    } else {
        store_first(p, n, best);
    }
}

/// One step of max_pool_stride2's scan: lane by lane, best (and with Record, at) take
/// candidate (and its positions: position, position + 2…) where candidate > best; the lanes
/// where candidate is NaN join `nan`.
template <bool Record>
XTNN_KERNEL void take_greater(reg candidate, index_reg positions, reg& best, index_reg& at,
                              lanes_mask& nan) {
    nan = either(nan, nan_lanes(candidate));
    if constexpr (Record) {
        at = choose(greater(candidate, best), positions, at);
    }
    best = larger(candidate, best);
}

/// One row of max_pool_stride2's windows, from plane[row] on, for `n` outputs: window
/// columns 2m (even lanes) and 2m + 1 (odd lanes) from one pair of loads; the last column
/// alone when kw is odd (its pair's odd half lies past the last window, maybe past the plane).
template <std::size_t KW, bool Record, bool Start>
XTNN_KERNEL void scan_window_row(const float* plane, std::size_t row, std::size_t window_w,
                                 std::size_t n, reg& best, index_reg& at, lanes_mask& nan) {
    const std::size_t kw = KW != 0 ? KW : window_w;
    const index_reg first = even_positions(static_cast<std::uint32_t>(row));
#pragma GCC unroll 4
    for (std::size_t m = 0; 2 * m < kw; ++m) {
        const bool single = 2 * m + 1 == kw;
        reg even, odd;
        load_pairs(plane + row + 2 * m, single ? 2 * n - 1 : 2 * n, even, odd);
        if (Start && m == 0) { // the window's first value and position
            nan = either(nan, nan_lanes(even));
            best = even;
            at = first;
        } else {
            take_greater<Record>(even, add(first, static_cast<std::uint32_t>(2 * m)), best, at,
                                 nan);
        }
        if (!single) {
            take_greater<Record>(odd, add(first, static_cast<std::uint32_t>(2 * m + 1)), best, at,
                                 nan);
        }
    }
}

/// max_pool_stride2 with the window's extents KH × KW known when not 0, and the winners'
/// positions when Record.
template <std::size_t KH, std::size_t KW, bool Record>
XTNN_KERNEL bool max_pool_stride2_windows(const float* plane, std::size_t height, std::size_t width,
                                          std::size_t window_h, std::size_t window_w,
                                          std::size_t top, std::size_t left, std::size_t oh,
                                          std::size_t ow, std::size_t first, std::size_t last,
                                          bool rectify, float* out, std::uint32_t* won) {
    const std::size_t kh = KH != 0 ? KH : window_h, kw = KW != 0 ? KW : window_w;
    lanes_mask nan = no_lanes();
    for (std::size_t i = 0; i < oh; ++i) {
        // The window's rows inside the plane (padding is at most half the kernel: some are).
        const std::size_t from = 2 * i > top ? 2 * i - top : 0;
        const std::size_t to = std::min(height, 2 * i + kh - top);
        for (std::size_t j = first; j < last; j += lanes) {
            const std::size_t n = std::min(lanes, last - j);
            const std::size_t column = 2 * j - left;
            // From the window's first value and position: strictly greater values take
            // over, as in the scalar loop.
            reg best = zero();
            index_reg at = positions(0);
            scan_window_row<KW, Record, true>(plane, from * width + column, kw, n, best, at, nan);
            if (KH != 0 && to - from == kh) { // every row of the window: a fixed count
#pragma GCC unroll 4
                for (std::size_t u = 1; u < kh; ++u) {
                    scan_window_row<KW, Record, false>(plane, (from + u) * width + column, kw, n,
                                                       best, at, nan);
                }
            } else {
                for (std::size_t u = from + 1; u < to; ++u) {
                    scan_window_row<KW, Record, false>(plane, u * width + column, kw, n, best, at,
                                                       nan);
                }
            }
            if constexpr (Record) {
                store_positions(won + i * ow + j, n, at);
            }
            store_pooled(out + i * ow + j, n, best, rectify);
        }
    }
    return !any(nan);
}

/// max_pool_stride2 of unpadded 2 × 2 windows, every column (its loop, 1.2-1.3× as fast as
/// the general one on the Keras convnet's 26 × 26 planes): out[i·ow + j] is the largest of its
/// window, rectified (max(·, 0), NaN kept) when `rectify`; with `won`, won[i·ow + j] is the
/// position in the plane of the window's first value equal to it, as max_pool2d's scalar loop finds
/// them. Returns false if a window held NaN, whose outputs are then the caller's to redo (the first
/// NaN wins, which needs the scalar loop's order).
XTNN_KERNEL bool max_pool_2x2(const float* plane, std::size_t width, std::size_t oh, std::size_t ow,
                              bool rectify, float* out, std::uint32_t* won) {
    bool nan = false;
    const auto w = static_cast<std::uint32_t>(width);
    for (std::size_t i = 0; i < oh; ++i) {
        const float* top = plane + 2 * i * width;
        for (std::size_t j = 0; j < ow; j += lanes) {
            const std::size_t n = std::min(lanes, ow - j);
            reg c0, c1, c2, c3; // the window's values in the scalar loop's order
            load_pairs(top + 2 * j, 2 * n, c0, c1);
            load_pairs(top + width + 2 * j, 2 * n, c2, c3);
            reg best = c0;
            best = choose(greater(c1, best), c1, best);
            best = choose(greater(c2, best), c2, best);
            best = choose(greater(c3, best), c3, best);
            nan = nan || any_nan(c0) || any_nan(c1) || any_nan(c2) || any_nan(c3);
            if (won != nullptr) {
                const index_reg corner =
                    even_positions(static_cast<std::uint32_t>(2 * i * width + 2 * j));
                index_reg at = choose(equal(c3, best), add(corner, w + 1), corner);
                at = choose(equal(c2, best), add(corner, w), at);
                at = choose(equal(c1, best), add(corner, 1), at);
                at = choose(equal(c0, best), corner, at);
                store_positions(won + i * ow + j, n, at);
            }
            store_pooled(out + i * ow + j, n, best, rectify);
        }
    }
    return !nan;
}

/// Max pooling of one plane, `height` rows of `width` values, in kh × kw windows with stride
/// 2: the window of output (i, j) has its corner at row 2i - top and column 2j - left (the
/// padding: rows outside the plane are skipped, as padding never wins). For each output row
/// i < oh and the output columns [first, last), whose windows the caller keeps inside the
/// row: out[i·ow + j] is the largest value of the window, rectified (max(·, 0)) when
/// `rectify`; with `won`, won[i·ow + j] is the position in the plane of the window's first
/// value equal to it (row by row), as max_pool2d's scalar loop finds them. Returns false if a
/// window held NaN, whose outputs are then the caller's to redo (the first NaN wins, which
/// needs the scalar loop's order). 2 × 2 and 3 × 3 windows have their own loops.
XTNN_KERNEL bool max_pool_stride2(const float* plane, std::size_t height, std::size_t width,
                                  std::size_t kh, std::size_t kw, std::size_t top, std::size_t left,
                                  std::size_t oh, std::size_t ow, std::size_t first,
                                  std::size_t last, bool rectify, float* out, std::uint32_t* won) {
    const auto run = [&]<std::size_t KH, std::size_t KW>() {
        return won != nullptr
                   ? max_pool_stride2_windows<KH, KW, true>(plane, height, width, kh, kw, top, left,
                                                            oh, ow, first, last, rectify, out, won)
                   : max_pool_stride2_windows<KH, KW, false>(plane, height, width, kh, kw, top,
                                                             left, oh, ow, first, last, rectify,
                                                             out, won);
    };
    if (kh == 2 && kw == 2 && top == 0 && left == 0) {
        return max_pool_2x2(plane, width, oh, ow, rectify, out, won);
    }
    if (kh == 2 && kw == 2) {
        return run.template operator()<2, 2>();
    }
    if (kh == 3 && kw == 3) {
        return run.template operator()<3, 3>();
    }
    return run.template operator()<0, 0>();
}

/// The gradient of 2 × 2 max pooling with stride 2 (max_pool_stride2) on one plane of h × w values:
/// dx[r·w + c] = dy[o]·d for the window o = (r / 2)·ow + c / 2 if its winner won[o] is r·w + c,
/// else 0, where d is 1, or when `rectify` relu's derivative at the winner (pooled[o] > 0: pooled
/// holds the rectified maxima), multiplied as the scalar loop does (0·NaN is NaN). Every value of
/// dx is written, those of no window (an odd last row or column) 0.
XTNN_KERNEL void max_unpool_2x2(const float* dy, const std::uint32_t* won, const float* pooled,
                                bool rectify, std::size_t oh, std::size_t ow, float* dx,
                                std::size_t h, std::size_t w) {
    constexpr std::size_t half = lanes / 2;
    for (std::size_t r = 0; r < h; ++r) {
        const std::size_t i = r / 2;
        float* row = dx + r * w;
        for (std::size_t c = 0; c < w; c += lanes) {
            // The windows of columns [c, c + lanes): half as many, those past ow none.
            const std::size_t j = c / 2;
            const std::size_t n = i < oh && j < ow ? std::min(half, ow - j) : 0;
            reg value = zero();
            if (n > 0) {
                const std::size_t o = i * ow + j;
                reg g = load_doubled(dy + o, n);
                if (rectify) {
                    const reg d = choose(greater(load_doubled(pooled + o, n), zero()),
                                         broadcast(1.0F), zero());
                    g = mul(g, d);
                }
                const lanes_mask hit = equal(load_doubled(won + o, n),
                                             positions(static_cast<std::uint32_t>(r * w + c)));
                // 0 + v: the scalar loop adds to a cleared value, so -0 becomes +0.
                value = add(zero(), choose(hit, g, zero()));
            }
            if (c + lanes <= w) {
                store(row + c, value);
            } else {
                store_first(row + c, w - c, value);
            }
        }
    }
}

#if XTNN_ISA_LANES == 16
// sgemm, AVX-512 only: with AVX2, OpenBLAS's own Haswell kernel is as fast or faster on all
// but the smallest products (measured: see blas.hpp's own_sgemm_suits).

/// C = alpha·acc + beta·C for one vector of C (beta 0 leaves C unread, NaN included).
XTNN_KERNEL reg scaled(reg acc, reg alpha, float beta, const float* c) {
    return beta == 0.0F ? mul(acc, alpha) : fma(broadcast(beta), load(c), mul(acc, alpha));
}

/// One tile of gemm_outer: C(r, j) = alpha·Σ_{k<depth} A(r, k)·B[k·ldb + j] + beta·C(r, j) for
/// r < rows ≤ gemm_rows and j < cols, cols ≤ gemm_vectors·lanes (all of them unless `Tail`).
/// A(r, k) is a[r·lda + k], or a[k·lda + r] when `TransA`. Rows past `rows` repeat the last
/// row (read, summed, never stored), so a tile reads only A's rows.
template <bool TransA, bool Tail>
XTNN_KERNEL void gemm_outer_tile(const float* a, std::size_t lda, std::size_t rows, const float* b,
                                 std::size_t ldb, std::size_t cols, std::size_t depth, float alpha,
                                 float beta, float* c, std::size_t ldc) {
    constexpr std::size_t R = gemm_rows, V = gemm_vectors;
    reg acc[R][V];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
            acc[r][v] = zero();
        }
    }
    tail_mask masks[V];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) {
        masks[v] = first_lanes(cols > v * lanes ? cols - v * lanes : 0);
    }
    const float* x[R];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
        x[r] = a + std::min(r, rows - 1) * (TransA ? 1 : lda);
    }
    const std::size_t step = TransA ? lda : 1;
    for (std::size_t k = 0; k < depth; ++k, b += ldb) {
        reg y[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
            y[v] = Tail ? load_masked(b + v * lanes, masks[v]) : load(b + v * lanes);
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < R; ++r) {
            const reg value = broadcast(x[r][k * step]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) {
                acc[r][v] = fma(value, y[v], acc[r][v]);
            }
        }
    }
    const reg scale = broadcast(alpha);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
        if (r < rows) {
            float* row = c + r * ldc;
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) {
                if (Tail) {
                    const reg old = beta == 0.0F ? zero() : load_masked(row + v * lanes, masks[v]);
                    store_masked(row + v * lanes, masks[v],
                                 fma(broadcast(beta), old, mul(acc[r][v], scale)));
                } else {
                    store(row + v * lanes, scaled(acc[r][v], scale, beta, row + v * lanes));
                }
            }
        }
    }
}

/// C = alpha·op(A)·op(B) + beta·C, row-major, op(B) (k, n) stored (k, n) or, when `trans_b`,
/// (n, k), op(A) (m, k) stored (m, k) or, when `trans_a`, (k, m) (not both transposed):
/// register tiles of gemm_rows rows of A (broadcast) by gemm_vectors vectors of a row of B
/// (of its strip), summed over blocks of k whose strip of B stays in the L1 cache while
/// every tile of a block of A's rows (in the L2 cache) passes over it. Where
/// B's rows lie 4 KiB or more apart and more than one tile reads a strip, the strip is first
/// copied to a buffer of its own, its rows one after the other: read where they are, such
/// rows each take a page and share the L1 cache's sets (the weight gradients of unfolded deep
/// layers, B 2,304 or 4,608 wide, ran 1.2× as fast packed, a wide dense layer's dyᵀ·x 1.27×;
/// narrower B gained nothing, and with two tiles to a strip lost the copy). A transposed B's
/// strips are always copied, transposed 16 × 16 at a time (gemm_outer_transposes says where
/// that pays). A is read where it is. beta 0 overwrites C (NaN included).
XTNN_KERNEL void gemm_outer(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                            float alpha, const float* a, std::size_t lda, const float* b,
                            std::size_t ldb, float beta, float* c, std::size_t ldc) {
    constexpr std::size_t width = gemm_vectors * lanes;
    // A strip of B (depth × width floats) of ≤ 24 KiB; A's block (rows × depth) of ≤ 256 KiB.
    constexpr std::size_t depth = std::max<std::size_t>(24 * 1024 / 4 / width, 1);
    constexpr std::size_t block =
        std::max<std::size_t>(64 * 1024 / depth / gemm_rows, 1) * gemm_rows;
    alignas(64) float packed[depth * width]; // the strip, when packed
    for (std::size_t i0 = 0; i0 < m; i0 += block) {
        const std::size_t i1 = std::min(i0 + block, m);
        for (std::size_t p = 0; p < k; p += depth) {
            const std::size_t d = std::min(depth, k - p);
            const float scale = p == 0 ? beta : 1.0F;
            for (std::size_t j = 0; j < n; j += width) {
                const std::size_t cols = std::min(width, n - j);
                const float* strip = b + p * ldb + j;
                std::size_t ldb_strip = ldb;
                if (trans_b) { // B's rows j.. are the strip's columns
                    transpose(b + j * ldb + p, runs::even(ldb), cols, d, packed, runs::even(width));
                    strip = packed;
                    ldb_strip = width;
                } else if (ldb >= 1024 && i1 - i0 > gemm_rows) {
                    copy_rows(strip, ldb, packed, width, d, cols);
                    strip = packed;
                    ldb_strip = width;
                }
                for (std::size_t i = i0; i < i1; i += gemm_rows) {
                    const std::size_t rows = std::min(gemm_rows, i1 - i);
                    float* tile = c + i * ldc + j;
                    if (trans_a) {
                        const float* x = a + p * lda + i;
                        cols == width
                            ? gemm_outer_tile<true, false>(x, lda, rows, strip, ldb_strip, cols, d,
                                                           alpha, scale, tile, ldc)
                            : gemm_outer_tile<true, true>(x, lda, rows, strip, ldb_strip, cols, d,
                                                          alpha, scale, tile, ldc);
                    } else {
                        const float* x = a + i * lda + p;
                        cols == width
                            ? gemm_outer_tile<false, false>(x, lda, rows, strip, ldb_strip, cols, d,
                                                            alpha, scale, tile, ldc)
                            : gemm_outer_tile<false, true>(x, lda, rows, strip, ldb_strip, cols, d,
                                                           alpha, scale, tile, ldc);
                    }
                }
            }
        }
    }
}

/// One vector of k for every pair of a gemm_dot tile (the lanes of `rest` only when Masked).
template <bool Masked>
__attribute__((always_inline)) XTNN_KERNEL void
dot_step(reg (&acc)[dot_rows][dot_columns], const float* const* x, const float* const* y,
         std::size_t k, tail_mask rest) {
    reg w[dot_columns];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < dot_columns; ++j) {
        w[j] = Masked ? load_masked(y[j] + k, rest) : load(y[j] + k);
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < dot_rows; ++r) {
        reg value = Masked ? load_masked(x[r] + k, rest) : load(x[r] + k);
        in_register(value);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < dot_columns; ++j) {
            acc[r][j] = fma(value, w[j], acc[r][j]);
        }
    }
}

/// One tile of gemm_dot: C(r, j) = alpha·Σ_{k<depth} a[r·lda + k]·b[j·ldb + k] + beta·C(r, j)
/// for r < rows ≤ dot_rows and j < cols ≤ dot_columns: a vector of partial sums per pair,
/// added up at the end. Rows of A or B past rows or cols repeat the last (never stored).
XTNN_KERNEL void gemm_dot_tile(const float* a, std::size_t lda, std::size_t rows, const float* b,
                               std::size_t ldb, std::size_t cols, std::size_t depth, float alpha,
                               float beta, float* c, std::size_t ldc) {
    constexpr std::size_t R = dot_rows, J = dot_columns;
    static_assert(J == 4, "sum_lanes adds up four vectors");
    reg acc[R][J];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (std::size_t j = 0; j < J; ++j) {
            acc[r][j] = zero();
        }
    }
    const float* x[R];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
        x[r] = a + std::min(r, rows - 1) * lda;
    }
    const float* y[J];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < J; ++j) {
        y[j] = b + std::min(j, cols - 1) * ldb;
    }
    const std::size_t full = depth / lanes * lanes;
    for (std::size_t k = 0; k < full; k += lanes) {
        dot_step<false>(acc, x, y, k, tail_mask{});
    }
    if (full < depth) {
        dot_step<true>(acc, x, y, full, first_lanes(depth - full));
    }
    const __m128 scale = _mm_set1_ps(alpha);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
        if (r < rows) {
            float* out = c + r * ldc;
            __m128 sums = _mm_mul_ps(sum_lanes(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), scale);
            if (cols == J) {
                if (beta != 0.0F) {
                    sums = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_loadu_ps(out), sums);
                }
                _mm_storeu_ps(out, sums);
            } else {
                float values[J];
                _mm_storeu_ps(values, sums);
                for (std::size_t j = 0; j < cols; ++j) {
                    out[j] = beta == 0.0F ? values[j] : beta * out[j] + values[j];
                }
            }
        }
    }
}

/// C = alpha·A·Bᵀ + beta·C, row-major, A (m, k), B (n, k): both read along k, their rows'
/// products summed in vectors (register tiles of dot_rows rows of A by dot_columns rows of
/// B). k goes in blocks of ≤ 1,024 (a tile's rows of A stay in the L1 cache), B's rows in
/// blocks of ≤ 256 KiB (in the L2 cache while every tile of A's rows passes over them).
/// Nothing is packed or transposed. beta 0 overwrites C (NaN included).
XTNN_KERNEL void gemm_dot(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                          std::size_t ldc) {
    const std::size_t blocks = (k + 1023) / 1024;
    const std::size_t depth = ((k + blocks - 1) / blocks + lanes - 1) / lanes * lanes;
    const std::size_t band =
        std::max<std::size_t>(64 * 1024 / depth / dot_columns, 1) * dot_columns;
    for (std::size_t p = 0; p < k; p += depth) {
        const std::size_t d = std::min(depth, k - p);
        const float scale = p == 0 ? beta : 1.0F;
        for (std::size_t j0 = 0; j0 < n; j0 += band) {
            const std::size_t j1 = std::min(j0 + band, n);
            for (std::size_t i = 0; i < m; i += dot_rows) {
                const std::size_t rows = std::min(dot_rows, m - i);
                for (std::size_t j = j0; j < j1; j += dot_columns) {
                    gemm_dot_tile(a + i * lda + p, lda, rows, b + j * ldb + p, ldb,
                                  std::min(dot_columns, j1 - j), d, alpha, scale, c + i * ldc + j,
                                  ldc);
                }
            }
        }
    }
}

/// gemv_dot's tile: rows of A, each a vector of partial sums (sum_lanes adds four at a time).
inline constexpr std::size_t gemv_rows = 8;

/// One vector of k for every row of a gemv_dot tile (the lanes of `rest` only when Masked).
template <bool Masked>
__attribute__((always_inline)) XTNN_KERNEL void gemv_step(reg (&acc)[gemv_rows],
                                                          const float* const* row, const float* x,
                                                          std::size_t k, tail_mask rest) {
    reg value = Masked ? load_masked(x + k, rest) : load(x + k);
    in_register(value);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < gemv_rows; ++r) {
        acc[r] = fma(Masked ? load_masked(row[r] + k, rest) : load(row[r] + k), value, acc[r]);
    }
}

/// y[i·incy] = alpha·Σ_k a[i·lda + k]·x[k] + beta·y[i·incy] for i < rows (beta 0 overwrites):
/// gemv's rows of A by a contiguous x, 8 rows a tile, each a vector of partial sums over k.
XTNN_KERNEL void gemv_dot(std::size_t rows, std::size_t cols, float alpha, const float* a,
                          std::size_t lda, const float* x, float beta, float* y, std::size_t incy) {
    constexpr std::size_t R = gemv_rows;
    const std::size_t full = cols / lanes * lanes;
    const tail_mask rest = first_lanes(cols - full);
    for (std::size_t i = 0; i < rows; i += R) {
        const float* row[R];
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) {
            row[r] = a + std::min(i + r, rows - 1) * lda; // past rows: the last again
        }
        reg acc[R];
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) {
            acc[r] = zero();
        }
        for (std::size_t k = 0; k < full; k += lanes) {
            gemv_step<false>(acc, row, x, k, rest);
        }
        if (full < cols) {
            gemv_step<true>(acc, row, x, full, rest);
        }
        alignas(16) float sums[R];
        _mm_store_ps(sums, sum_lanes(acc[0], acc[1], acc[2], acc[3]));
        _mm_store_ps(sums + 4, sum_lanes(acc[4], acc[5], acc[6], acc[7]));
        for (std::size_t r = 0; r < R && i + r < rows; ++r) {
            float& out = y[(i + r) * incy];
            out = beta == 0.0F ? alpha * sums[r] : alpha * sums[r] + beta * out;
        }
    }
}

/// y[j] = alpha·Σ_i x[i·incx]·a[i·lda + j] + beta·y[j] for j < cols (beta 0 overwrites):
/// gemv's transposed form, a strip of 4 vectors of y in registers over all the rows.
XTNN_KERNEL void gemv_axpy(std::size_t rows, std::size_t cols, float alpha, const float* a,
                           std::size_t lda, const float* x, std::size_t incx, float beta,
                           float* y) {
    constexpr std::size_t V = 4;
    for (std::size_t j = 0; j < cols; j += V * lanes) {
        tail_mask masks[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
            const std::size_t at = j + v * lanes;
            masks[v] = first_lanes(cols > at ? cols - at : 0);
        }
        reg acc[V];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
            acc[v] = zero();
        }
        for (std::size_t i = 0; i < rows; ++i) {
            const reg value = broadcast(x[i * incx]);
            const float* line = a + i * lda + j;
#pragma GCC unroll 4
            for (std::size_t v = 0; v < V; ++v) {
                acc[v] = fma(value, load_masked(line + v * lanes, masks[v]), acc[v]);
            }
        }
        const reg scale = broadcast(alpha);
#pragma GCC unroll 4
        for (std::size_t v = 0; v < V; ++v) {
            float* out = y + j + v * lanes;
            const reg old = beta == 0.0F ? zero() : load_masked(out, masks[v]);
            store_masked(out, masks[v], fma(broadcast(beta), old, mul(scale, acc[v])));
        }
    }
}

/// y = alpha·op(A)·x + beta·y for a row-major (rows, cols) A, as BLAS's sgemv: gemv_dot
/// (op(A) = A, x contiguous) or gemv_axpy (op(A) = Aᵀ, y contiguous). False, with y
/// untouched, for the other strides (BLAS's to do).
XTNN_KERNEL bool gemv(bool trans, std::size_t rows, std::size_t cols, float alpha, const float* a,
                      std::size_t lda, const float* x, std::size_t incx, float beta, float* y,
                      std::size_t incy) {
    if (!trans && incx == 1) {
        gemv_dot(rows, cols, alpha, a, lda, x, beta, y, incy);
        return true;
    }
    if (trans && incy == 1) {
        gemv_axpy(rows, cols, alpha, a, lda, x, incx, beta, y);
        return true;
    }
    return false;
}

/// Whether A·Bᵀ runs as gemm_outer on transposed strips of B rather than as gemm_dot: where
/// enough rows of A share each transposed strip and B's rows fill whole strips (m ≥ 128,
/// n ≥ 96), and for short sums (k ≤ 256), where gemm_dot's sums across lanes weigh, from 32
/// rows of A (64 with n < 96: a strip and a third). Measured against gemm_dot (a sweep of m
/// from 8 to 1,000, n from 10 to 1,024, k of 128, 784 and 1,024, one thread, Zen 5; see
/// docs/performance.md): 1.04-1.2× at k = 784, 1.2-1.5× at 1,024, 1.3-1.9× at 128 on those
/// shapes; 0.7-1.0× with fewer rows of A and long sums, 0.3-0.6× on 10 columns.
XTNN_KERNEL bool gemm_outer_transposes(std::size_t m, std::size_t n, std::size_t k) {
    if (k <= 256) {
        return (m >= 32 && n >= 96) || (m >= 64 && n >= 64);
    }
    return m >= 128 && n >= 96;
}

/// C = alpha·op(A)·op(B) + beta·C (row-major, as BLAS's sgemm): gemm_outer when B is not
/// transposed, and when only B is and `strips` (on transposed strips of B: where
/// gemm_outer_transposes says so, decided on the whole product, so that a product's parts sum
/// as it does); gemm_dot on the others. False, with C untouched, when both are transposed or
/// k is 0 (BLAS's to do).
XTNN_KERNEL bool gemm(bool trans_a, bool trans_b, bool strips, std::size_t m, std::size_t n,
                      std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                      std::size_t ldb, float beta, float* c, std::size_t ldc) {
    if (k == 0 || (trans_a && trans_b)) {
        return false;
    }
    if (trans_b && !strips) {
        gemm_dot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return true;
    }
    gemm_outer(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return true;
}
#endif

// Winograd F(m × m, 3 × 3) (Lavin and Gray, 2016): an m × m block of a 3 × 3 convolution's
// outputs (a tile) is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, from the block's (m + 2) × (m + 2) inputs d
// and a filter g: (m + 2)² products in place of 9m². m = 4 (points 0, ±1, ±2 and ∞: 36
// products for 144) or m = 2 (points 0, ±1 and ∞: 16 for 36, for small planes and many
// channels, whose transformed filters take 16/9 of the weights instead of 4×). Each transform
// is a 1-D step applied to the columns and then to the rows, here to vectors of channels
// (input, filter) or of filters (output), so that every lane is used whatever the size of the
// planes.

/// Bᵀ·d of m + 2 vectors: the input transform's 1-D step.
template <std::size_t M>
XTNN_KERNEL void winograd_input_step(const reg* d, reg* r) {
    if constexpr (M == 4) {
        const reg a = fma(broadcast(-4.0f), d[2], d[4]), b = fma(broadcast(-4.0f), d[1], d[3]);
        const reg c = sub(d[4], d[2]), e = mul(broadcast(2.0f), sub(d[3], d[1]));
        r[0] = fma(broadcast(4.0f), d[0], fma(broadcast(-5.0f), d[2], d[4]));
        r[1] = add(a, b);
        r[2] = sub(a, b);
        r[3] = add(c, e);
        r[4] = sub(c, e);
        r[5] = fma(broadcast(4.0f), d[1], fma(broadcast(-5.0f), d[3], d[5]));
    } else {
        static_assert(M == 2);
        r[0] = sub(d[0], d[2]);
        r[1] = add(d[1], d[2]);
        r[2] = sub(d[2], d[1]);
        r[3] = sub(d[1], d[3]);
    }
}

/// G·g of three vectors: the filter transform's 1-D step (to m + 2).
template <std::size_t M>
XTNN_KERNEL void winograd_filter_step(const reg* g, reg* u) {
    if constexpr (M == 4) {
        const reg outer = add(g[0], g[2]), quarter = mul(broadcast(1.0f / 24.0f), g[0]);
        const reg sixth = mul(broadcast(1.0f / 6.0f), g[2]);
        u[0] = mul(broadcast(0.25f), g[0]);
        u[1] = mul(broadcast(-1.0f / 6.0f), add(outer, g[1]));
        u[2] = mul(broadcast(-1.0f / 6.0f), sub(outer, g[1]));
        u[3] = add(quarter, fma(broadcast(1.0f / 12.0f), g[1], sixth));
        u[4] = add(quarter, fma(broadcast(-1.0f / 12.0f), g[1], sixth));
        u[5] = g[2];
    } else {
        static_assert(M == 2);
        const reg outer = mul(broadcast(0.5f), add(g[0], g[2])),
                  middle = mul(broadcast(0.5f), g[1]);
        u[0] = g[0];
        u[1] = add(outer, middle);
        u[2] = sub(outer, middle);
        u[3] = g[2];
    }
}

/// Aᵀ·m of m + 2 vectors: the output transform's 1-D step (to m).
template <std::size_t M>
XTNN_KERNEL void winograd_output_step(const reg* m, reg* y) {
    if constexpr (M == 4) {
        const reg p = add(m[1], m[2]), q = sub(m[1], m[2]), s = add(m[3], m[4]);
        const reg w = sub(m[3], m[4]);
        y[0] = add(add(m[0], p), s);
        y[1] = fma(broadcast(2.0f), w, q);
        y[2] = fma(broadcast(4.0f), s, p);
        y[3] = add(fma(broadcast(8.0f), w, q), m[5]);
    } else {
        static_assert(M == 2);
        y[0] = add(add(m[0], m[1]), m[2]);
        y[1] = sub(sub(m[1], m[2]), m[3]);
    }
}

/// Gᵀ·m of m + 2 vectors: the filter transform's 1-D step transposed (the weight gradient's).
template <std::size_t M>
XTNN_KERNEL void winograd_filter_gradient_step(const reg* m, reg* g) {
    if constexpr (M == 4) {
        const reg near = mul(broadcast(1.0f / 6.0f), add(m[1], m[2])); // the points ±1
        const reg far = add(m[3], m[4]);                               // ±2
        g[0] = sub(fma(broadcast(0.25f), m[0], mul(broadcast(1.0f / 24.0f), far)), near);
        g[1] = fma(broadcast(1.0f / 12.0f), sub(m[3], m[4]),
                   mul(broadcast(1.0f / 6.0f), sub(m[2], m[1])));
        g[2] = add(sub(mul(broadcast(1.0f / 6.0f), far), near), m[5]);
    } else {
        static_assert(M == 2);
        const reg near = mul(broadcast(0.5f), add(m[1], m[2]));
        g[0] = add(m[0], near);
        g[1] = mul(broadcast(0.5f), sub(m[1], m[2]));
        g[2] = add(near, m[3]);
    }
}

/// A·δ of m vectors: the output transform's 1-D step transposed (the weight gradient's; to
/// m + 2).
template <std::size_t M>
XTNN_KERNEL void winograd_gradient_step(const reg* d, reg* r) {
    if constexpr (M == 4) {
        const reg even = add(d[0], d[2]), odd = add(d[1], d[3]);
        const reg even4 = fma(broadcast(4.0f), d[2], d[0]);
        const reg odd4 = fma(broadcast(8.0f), d[3], add(d[1], d[1]));
        r[0] = d[0];
        r[1] = add(even, odd);
        r[2] = sub(even, odd);
        r[3] = add(even4, odd4);
        r[4] = sub(even4, odd4);
        r[5] = d[3];
    } else {
        static_assert(M == 2);
        r[0] = d[0];
        r[1] = add(d[0], d[1]);
        r[2] = sub(d[0], d[1]);
        r[3] = sub(zero(), d[1]);
    }
}

/// The 2-D transform of `tiles` consecutive tiles of a row of tiles of side M by the 1-D step
/// `Step` (`In` vectors to N = M + 2): tile t is the In × In positions from column M·t of `in`
/// (positions of `width` values, a multiple of lanes; rows of `row` values), stepped on its
/// columns and then on its rows; element ξ = N·i + j goes to out[ξ·stride + t·width + c].
template <std::size_t M, std::size_t In, void (*Step)(const reg*, reg*)>
XTNN_KERNEL void transform_tiles(const float* in, std::size_t row, std::size_t width,
                                 std::size_t tiles, float* out, std::size_t stride) {
    constexpr std::size_t N = M + 2;
    reg columns[N][In]; // the columns stepped: [i][column]
    for (std::size_t t = 0; t < tiles; ++t) {
        for (std::size_t c = 0; c < width; c += lanes) {
            const float* d = in + M * t * width + c;
#pragma GCC unroll 6
            for (std::size_t l = 0; l < In; ++l) {
                reg line[In], r[N];
#pragma GCC unroll 6
                for (std::size_t k = 0; k < In; ++k) {
                    line[k] = load(d + k * row + l * width);
                }
                Step(line, r);
#pragma GCC unroll 6
                for (std::size_t i = 0; i < N; ++i) {
                    columns[i][l] = r[i];
                }
            }
            float* to = out + t * width + c;
#pragma GCC unroll 6
            for (std::size_t i = 0; i < N; ++i) {
                reg r[N];
                Step(columns[i], r);
#pragma GCC unroll 6
                for (std::size_t j = 0; j < N; ++j) {
                    store(to + (N * i + j) * stride, r[j]);
                }
            }
        }
    }
}

/// The input transform of `tiles` consecutive tiles of a row of tiles: tile t's inputs are
/// the (M + 2) × (M + 2) positions from column M·t of `in` (positions of `channels` values,
/// channels innermost; rows of `row` values; channels a multiple of lanes), and its Bᵀ d B,
/// element ξ = (M + 2)·i + j, goes to v[ξ·v_stride + t·channels + c].
template <std::size_t M>
XTNN_KERNEL void winograd_input(const float* in, std::size_t row, std::size_t channels,
                                std::size_t tiles, float* v, std::size_t v_stride) {
    transform_tiles<M, M + 2, winograd_input_step<M>>(in, row, channels, tiles, v, v_stride);
}

/// One register tile of winograd_multiply and winograd_tile_sums: R rows of v by W vectors of
/// u's columns, summed over `count` into m, m[r·u_row + w] = Σ_k v(r, k)·u[k·u_row + w], with
/// v(r, k) = v[r·v_stride + k], or v[k·v_stride + r] `Across` (u_row: the stride of u's and
/// m's rows); `Add`: the sum, from zero, added to m.
template <std::size_t R, std::size_t W, bool Across, bool Add>
XTNN_KERNEL void multiply_tile(const float* v, std::size_t v_stride, std::size_t count,
                               const float* u, std::size_t u_row, float* m) {
    reg acc[R][W];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (std::size_t w = 0; w < W; ++w) {
            acc[r][w] = zero();
        }
    }
    for (std::size_t k = 0; k < count; ++k) {
        reg columns[W];
#pragma GCC unroll 4
        for (std::size_t w = 0; w < W; ++w) {
            columns[w] = load(u + k * u_row + w * lanes);
        }
#pragma GCC unroll 8
        for (std::size_t r = 0; r < R; ++r) {
            const reg value = broadcast(Across ? v[k * v_stride + r] : v[r * v_stride + k]);
#pragma GCC unroll 4
            for (std::size_t w = 0; w < W; ++w) {
                acc[r][w] = fma(value, columns[w], acc[r][w]);
            }
        }
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (std::size_t w = 0; w < W; ++w) {
            float* to = m + r * u_row + w * lanes;
            store(to, Add ? add(load(to), acc[r][w]) : acc[r][w]);
        }
    }
}

/// Calls multiply_tile<R, W, Across, Add> for R = rows (1 to multiply_rows).
template <std::size_t W, bool Across, bool Add, std::size_t R = 1>
XTNN_KERNEL void multiply_rows_of(std::size_t rows, const float* v, std::size_t v_stride,
                                  std::size_t count, const float* u, std::size_t u_row, float* m) {
    if constexpr (R < multiply_rows) {
        if (rows > R) {
            multiply_rows_of<W, Across, Add, R + 1>(rows, v, v_stride, count, u, u_row, m);
            return;
        }
    }
    multiply_tile<R, W, Across, Add>(v, v_stride, count, u, u_row, m);
}

/// multiply_rows_of for `width` vectors (1 to multiply_vectors) of u's columns.
template <bool Across, bool Add>
XTNN_KERNEL void multiply_block(std::size_t rows, std::size_t width, const float* v,
                                std::size_t v_stride, std::size_t count, const float* u,
                                std::size_t u_row, float* m) {
    if (width == multiply_vectors) {
        multiply_rows_of<multiply_vectors, Across, Add>(rows, v, v_stride, count, u, u_row, m);
    } else if (width == 1) {
        multiply_rows_of<1, Across, Add>(rows, v, v_stride, count, u, u_row, m);
    } else if (width == 2) {
        multiply_rows_of<2, Across, Add>(rows, v, v_stride, count, u, u_row, m);
    } else if constexpr (multiply_vectors > 3) {
        multiply_rows_of<3, Across, Add>(rows, v, v_stride, count, u, u_row, m);
    }
}

/// Winograd's products, for each of the (M + 2)² points ξ: m[ξ·m_stride + t·width + f] =
/// Σ_c v[ξ·v_stride + t·channels + c] · u[ξ·u_stride + c·width + f] for t < tiles and f <
/// filters (u's and m's rows of `width` values; filters a multiple of lanes, at most width:
/// a part of the filters, each sum the same whatever the part).
template <std::size_t M>
XTNN_KERNEL void winograd_multiply(const float* v, std::size_t v_stride, const float* u,
                                   std::size_t u_stride, std::size_t tiles, std::size_t channels,
                                   std::size_t filters, std::size_t width, float* m,
                                   std::size_t m_stride) {
    const std::size_t vectors = filters / lanes;
    for (std::size_t point = 0; point < (M + 2) * (M + 2); ++point) {
        const float* vp = v + point * v_stride;
        const float* up = u + point * u_stride;
        float* mp = m + point * m_stride;
        for (std::size_t f = 0; f < vectors; f += multiply_vectors) {
            const std::size_t n = std::min(multiply_vectors, vectors - f);
            for (std::size_t t = 0; t < tiles; t += multiply_rows) {
                multiply_block<false, false>(std::min(multiply_rows, tiles - t), n,
                                             vp + t * channels, channels, channels, up + f * lanes,
                                             width, mp + t * width + f * lanes);
            }
        }
    }
}

/// The weight gradient's products, for each of the (M + 2)² points ξ:
/// m[ξ·m_stride + f·channels + c] = Σ_t d[ξ·d_stride + t·filters + f] ·
/// v[ξ·v_stride + t·channels + c], the sums over `tiles` tiles, for f < rows (channels a
/// multiple of lanes); `add`: each sum, from zero, added to m (a float sum over many blocks
/// in one accumulator loses 4× more bits).
template <std::size_t M>
XTNN_KERNEL void winograd_tile_sums(const float* d, std::size_t d_stride, const float* v,
                                    std::size_t v_stride, std::size_t tiles, std::size_t rows,
                                    std::size_t filters, std::size_t channels, bool add, float* m,
                                    std::size_t m_stride) {
    const std::size_t vectors = channels / lanes;
    for (std::size_t point = 0; point < (M + 2) * (M + 2); ++point) {
        const float* dp = d + point * d_stride;
        const float* vp = v + point * v_stride;
        float* mp = m + point * m_stride;
        for (std::size_t c = 0; c < vectors; c += multiply_vectors) {
            const std::size_t width = std::min(multiply_vectors, vectors - c);
            for (std::size_t f = 0; f < rows; f += multiply_rows) {
                const std::size_t n = std::min(multiply_rows, rows - f);
                const float* columns = vp + c * lanes;
                float* to = mp + f * channels + c * lanes;
                if (add) {
                    multiply_block<true, true>(n, width, dp + f, filters, tiles, columns, channels,
                                               to);
                } else {
                    multiply_block<true, false>(n, width, dp + f, filters, tiles, columns, channels,
                                                to);
                }
            }
        }
    }
}

/// The filter transform: g[(c·9 + 3u + w)·filters + f] is tap (u, w) of filter f on channel
/// c (filters a multiple of lanes), and its G g Gᵀ, element ξ, goes to
/// u[ξ·u_stride + c·filters + f], for c < channels.
template <std::size_t M>
XTNN_KERNEL void winograd_filter(const float* g, std::size_t channels, std::size_t filters,
                                 float* u, std::size_t u_stride) {
    constexpr std::size_t N = M + 2;
    for (std::size_t c = 0; c < channels; ++c) {
        for (std::size_t f = 0; f < filters; f += lanes) {
            const float* taps = g + c * 9 * filters + f;
            reg columns[N][3]; // G g: [i][column]
#pragma GCC unroll 3
            for (std::size_t w = 0; w < 3; ++w) {
                const reg line[3] = {load(taps + w * filters), load(taps + (3 + w) * filters),
                                     load(taps + (6 + w) * filters)};
                reg r[N];
                winograd_filter_step<M>(line, r);
#pragma GCC unroll 6
                for (std::size_t i = 0; i < N; ++i) {
                    columns[i][w] = r[i];
                }
            }
            float* to = u + c * filters + f;
#pragma GCC unroll 6
            for (std::size_t i = 0; i < N; ++i) {
                reg r[N];
                winograd_filter_step<M>(columns[i], r);
#pragma GCC unroll 6
                for (std::size_t j = 0; j < N; ++j) {
                    store(to + (N * i + j) * u_stride, r[j]);
                }
            }
        }
    }
}

/// The weight gradient's filter transform: m[ξ·m_stride + f·channels + c], the gradient of
/// filter f's transformed taps on channel c at point ξ (channels a multiple of lanes), and its
/// Gᵀ m G, tap (u, w), goes to g[(f·9 + 3u + w)·channels + c], for f < filters.
template <std::size_t M>
XTNN_KERNEL void winograd_filter_gradient(const float* m, std::size_t m_stride, std::size_t filters,
                                          std::size_t channels, float* g) {
    constexpr std::size_t N = M + 2;
    for (std::size_t f = 0; f < filters; ++f) {
        for (std::size_t c = 0; c < channels; c += lanes) {
            const float* from = m + f * channels + c;
            reg columns[3][N]; // Gᵀ m: [u][column]
#pragma GCC unroll 6
            for (std::size_t l = 0; l < N; ++l) {
                reg line[N], r[3];
#pragma GCC unroll 6
                for (std::size_t k = 0; k < N; ++k) {
                    line[k] = load(from + (N * k + l) * m_stride);
                }
                winograd_filter_gradient_step<M>(line, r);
#pragma GCC unroll 3
                for (std::size_t i = 0; i < 3; ++i) {
                    columns[i][l] = r[i];
                }
            }
            float* to = g + f * 9 * channels + c;
#pragma GCC unroll 3
            for (std::size_t i = 0; i < 3; ++i) {
                reg r[3];
                winograd_filter_gradient_step<M>(columns[i], r);
#pragma GCC unroll 3
                for (std::size_t j = 0; j < 3; ++j) {
                    store(to + (3 * i + j) * channels, r[j]);
                }
            }
        }
    }
}

/// The output gradient's transform of `tiles` consecutive tiles of a row of tiles: tile t's
/// output gradients δ are the M × M positions from column M·t of `in` (positions of `filters`
/// values, a multiple of lanes; rows of `row` values), and its A δ Aᵀ, element ξ, goes to
/// d[ξ·d_stride + t·filters + f].
template <std::size_t M>
XTNN_KERNEL void winograd_gradient(const float* in, std::size_t row, std::size_t filters,
                                   std::size_t tiles, float* d, std::size_t d_stride) {
    transform_tiles<M, M, winograd_gradient_step<M>>(in, row, filters, tiles, d, d_stride);
}

/// The output transform of `tiles` tiles: tile t's products are m[ξ·m_stride + t·width + f]
/// for f < filters (filters a multiple of lanes, at most width), and Aᵀ m A plus bias[f]
/// (bias: filters values, or null), with `then` applied (its arrays of filters values), goes
/// to the M × M positions from column M·t of `out` (positions of `width` values, their first
/// `filters` written; rows of `row` values).
template <std::size_t M>
XTNN_KERNEL void winograd_output(const float* m, std::size_t m_stride, std::size_t filters,
                                 std::size_t width, std::size_t tiles, const float* bias,
                                 const epilogue& then, float* out, std::size_t row) {
    constexpr std::size_t N = M + 2;
    reg columns[M][N]; // Aᵀ m: [i][column]
    for (std::size_t t = 0; t < tiles; ++t) {
        for (std::size_t f = 0; f < filters; f += lanes) {
            const float* from = m + t * width + f;
#pragma GCC unroll 6
            for (std::size_t l = 0; l < N; ++l) {
                reg line[N], r[M];
#pragma GCC unroll 6
                for (std::size_t k = 0; k < N; ++k) {
                    line[k] = load(from + (N * k + l) * m_stride);
                }
                winograd_output_step<M>(line, r);
#pragma GCC unroll 4
                for (std::size_t i = 0; i < M; ++i) {
                    columns[i][l] = r[i];
                }
            }
            const reg shift = bias != nullptr ? load(bias + f) : zero();
            const reg scale = then.scale != nullptr ? load(then.scale + f) : zero();
            const reg after = then.scale != nullptr ? load(then.shift + f) : zero();
            float* to = out + M * t * width + f;
#pragma GCC unroll 4
            for (std::size_t i = 0; i < M; ++i) {
                reg r[M];
                winograd_output_step<M>(columns[i], r);
#pragma GCC unroll 4
                for (std::size_t j = 0; j < M; ++j) {
                    reg value = add(r[j], shift);
                    if (then.scale != nullptr) {
                        value = fma(value, scale, after);
                    }
                    if (then.rectify) {
                        value = choose(less(value, zero()), zero(), value);
                    }
                    store(to + i * row + j * width, value);
                }
            }
        }
    }
}

} // namespace xtnn::detail::XTNN_ISA

#undef XTNN_KERNEL
// NOLINTEND(cppcoreguidelines-macro-usage)
