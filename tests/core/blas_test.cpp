#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/blas.hpp>

#include "support/helpers.hpp"

namespace {

// C = alpha op(A) op(B) + beta C, by the definition.
template <class T>
xtnn::tensor<T, 2> reference_gemm(const xtnn::tensor<T, 2>& a, const xtnn::tensor<T, 2>& b,
                                  const xtnn::tensor<T, 2>& c, xtnn::gemm_options o) {
    const std::size_t m = c.shape()[0];
    const std::size_t n = c.shape()[1];
    const std::size_t k = o.transpose_a ? a.shape()[0] : a.shape()[1];
    xtnn::tensor<T, 2> out = c;
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            double sum = 0;
            for (std::size_t p = 0; p < k; ++p) {
                const double av = o.transpose_a ? a(p, i) : a(i, p);
                const double bv = o.transpose_b ? b(j, p) : b(p, j);
                sum += av * bv;
            }
            out(i, j) = static_cast<T>(o.alpha * sum + o.beta * static_cast<double>(c(i, j)));
        }
    }
    return out;
}

} // namespace

TEMPLATE_TEST_CASE("gemm: matches the definition for every transpose and scale", "[core][blas]",
                   float, double) {
    // General products, and the single row or column products that go to gemv.
    const auto [m, n, k] = GENERATE(table<std::size_t, std::size_t, std::size_t>(
        {{5, 7, 3}, {1, 7, 3}, {5, 1, 3}, {1, 1, 4}, {1, 7, 0}, {5, 1, 0}}));
    INFO("m " << m << ", n " << n << ", k " << k);
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            for (double beta : {0.0, 1.0, -0.5}) {
                const xtnn::gemm_options o{
                    .transpose_a = ta, .transpose_b = tb, .alpha = 1.5, .beta = beta};
                auto a = xtnn::test::random_tensor<TestType, 2>(
                    ta ? xtnn::shape<2>{k, m} : xtnn::shape<2>{m, k}, 1);
                auto b = xtnn::test::random_tensor<TestType, 2>(
                    tb ? xtnn::shape<2>{n, k} : xtnn::shape<2>{k, n}, 2);
                auto c = xtnn::test::random_tensor<TestType, 2>({m, n}, 3);
                const auto expected = reference_gemm(a, b, c, o);
                xtnn::gemm(a, b, c, o);
                INFO("transpose_a " << ta << ", transpose_b " << tb << ", beta " << beta);
                CHECK(xtnn::test::max_abs_difference(c, expected) < 1e-5);
            }
        }
    }
}

TEMPLATE_TEST_CASE("gemm: products split over two threads match the definition",
                   "[core][blas][threads]", float, double) {
    // Over 16 MFLOP: two parts of ≥ 8, by rows (m ≥ n; 130 rows in 16-row units: 80 and 50)
    // and by columns, or by either side as a weight's owned rows (parts of 8: 70 columns as
    // 40 and 30); BLAS's parts (double, and float where xtnn's kernels do not take the form)
    // and xtnn's kernels' alike, with strides wider than the extents.
    const auto [m, n, k] = GENERATE(table<std::size_t, std::size_t, std::size_t>(
        {{300, 200, 300}, {130, 70, 1000}, {60, 1000, 300}}));
    const auto how = GENERATE(xtnn::product_split::automatic, xtnn::product_split::rows,
                              xtnn::product_split::columns);
    INFO("m " << m << ", n " << n << ", k " << k << ", split " << static_cast<int>(how));
    const auto before = xtnn::num_threads();
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            for (double beta : {0.0, -0.5}) {
                INFO("transpose_a " << ta << ", transpose_b " << tb << ", beta " << beta);
                const xtnn::gemm_options o{
                    .transpose_a = ta, .transpose_b = tb, .alpha = 1.5, .beta = beta};
                const auto a = xtnn::test::random_tensor<TestType, 2>(
                    ta ? xtnn::shape<2>{k, m} : xtnn::shape<2>{m, k}, 1);
                const auto b = xtnn::test::random_tensor<TestType, 2>(
                    tb ? xtnn::shape<2>{n, k} : xtnn::shape<2>{k, n}, 2);
                const auto c = xtnn::test::random_tensor<TestType, 2>({m, n}, 3);
                const auto expected = reference_gemm(a, b, c, o);
                // Raw pointers: A's rows 5 wider than its extent, C's 3 wider than n.
                const std::size_t rows = a.shape()[0], cols = a.shape()[1];
                const std::size_t lda = cols + 5, ldc = n + 3;
                std::vector<TestType> wide(rows * lda, TestType(9)), out(m * ldc, TestType(7));
                for (std::size_t i = 0; i < rows; ++i) {
                    std::copy_n(a.data() + i * cols, cols, wide.data() + i * lda);
                }
                for (std::size_t i = 0; i < m; ++i) {
                    std::copy_n(c.data() + i * n, n, out.data() + i * ldc);
                }
                xtnn::set_num_threads(2);
                xtnn::detail::gemm(ta, tb, m, n, k, TestType(1.5), wide.data(), lda, b.data(),
                                   tb ? k : n, static_cast<TestType>(beta), out.data(), ldc, how);
                xtnn::set_num_threads(before);
                double worst = 0;
                std::size_t outside = 0;
                for (std::size_t i = 0; i < m; ++i) {
                    for (std::size_t j = 0; j < ldc; ++j) {
                        const double got = out[i * ldc + j];
                        if (j >= n) {
                            outside += got == 7.0 ? 0U : 1U;
                        } else {
                            worst = std::max(worst, std::abs(got - double(expected(i, j))));
                        }
                    }
                }
                CHECK(outside == 0);
                CHECK(worst < 2e-6 * static_cast<double>(k));
            }
        }
    }
}

TEST_CASE("gemm: beta 0 overwrites NaN in the output", "[core][blas]") {
    xtnn::tensor<float, 2> a = {{1, 2}};
    xtnn::tensor<float, 2> b = {{3}, {4}};
    xtnn::tensor<float, 2> c = {{std::nanf("")}};
    xtnn::gemm(a, b, c);
    CHECK(c(0, 0) == 11.0f);
    // A row (gemv) and a matrix (gemm) too.
    xtnn::tensor<float, 2> row = {{std::nanf(""), std::nanf("")}};
    xtnn::gemm(a, xtnn::tensor<float, 2>{{1, 0}, {0, 1}}, row);
    CHECK(xtnn::test::equal(row, a));
    xtnn::tensor<float, 2> square = {{std::nanf(""), 1}, {2, std::nanf("")}};
    xtnn::gemm(xtnn::tensor<float, 2>{{1, 0}, {0, 1}}, xtnn::tensor<float, 2>{{1, 2}, {3, 4}},
               square);
    CHECK(xtnn::test::equal(square, xtnn::tensor<float, 2>{{1, 2}, {3, 4}}));
}

TEST_CASE("gemm: an empty inner extent gives beta C", "[core][blas]") {
    xtnn::tensor<double, 2> a(xtnn::shape<2>{2, 0});
    xtnn::tensor<double, 2> b(xtnn::shape<2>{0, 3});
    xtnn::tensor<double, 2> c = {{1, 1, 1}, {1, 1, 1}};
    xtnn::gemm(a, b, c, {.beta = 0.0});
    CHECK(xtnn::test::max_abs_difference(c, xtnn::tensor<double, 2>(xt::zeros<double>({2, 3}))) ==
          0.0);
}

TEST_CASE("gemm: shape errors name both shapes", "[core][blas]") {
    xtnn::tensor<float, 2> a(xtnn::shape<2>{4, 3});
    xtnn::tensor<float, 2> b(xtnn::shape<2>{5, 2});
    xtnn::tensor<float, 2> c(xtnn::shape<2>{4, 2});
    REQUIRE_THROWS_MATCHES(xtnn::gemm(a, b, c), xtnn::shape_error,
                           Catch::Message("gemm: inner extents of op(A) and op(B) differ; "
                                          "expected op(B) with 3 rows, got A (4, 3), B (5, 2)"));
    xtnn::tensor<float, 2> b2(xtnn::shape<2>{3, 2});
    xtnn::tensor<float, 2> wrong(xtnn::shape<2>{4, 3});
    REQUIRE_THROWS_MATCHES(
        xtnn::gemm(a, b2, wrong), xtnn::shape_error,
        Catch::Message("gemm: output shape mismatch; expected (4, 2), got (4, 3)"));
    xtnn::tensor<float, 2> square(xtnn::shape<2>{3, 3});
    REQUIRE_THROWS_AS(xtnn::gemm(square, square, square), std::invalid_argument);
}

TEST_CASE("gemm: xtnn's own AVX-512 kernels match the definition", "[core][blas][simd]") {
    // The kernels directly, whatever BLAS and threads this machine has (gemm() takes them only
    // where OpenBLAS runs a narrower kernel). The shapes cross every edge: rows past a register
    // tile (8 rows, 6 for the dot tiles) and past gemm_outer's blocks of 64 rows (whose
    // strips of B it copies when more than one tile reads them), columns past a tile's 48 or
    // 4 and past its last full vector, k past a vector, past gemm_outer's blocks of k (128)
    // and gemm_dot's (1,024), and strides wider than the extents. A·Bᵀ runs both as gemm_dot
    // and as gemm_outer on transposed strips of B (the last shape past a block of A's rows,
    // so that each strip is transposed twice).
    const auto detected = xtnn::detected_simd();
    if (detected < xtnn::simd_level::avx512) {
        WARN("no AVX-512 on this CPU: xtnn's sgemm kernels are not used here, not tested");
        return;
    }
    CHECK(xtnn::detail::simd_products(xtnn::simd_level::avx2) == nullptr);
    const auto [m, n, k] =
        GENERATE(table<std::size_t, std::size_t, std::size_t>({{1, 1, 1},
                                                               {7, 13, 29},
                                                               {9, 49, 17},
                                                               {32, 128, 784},
                                                               {17, 10, 128},
                                                               {13, 131, 400},
                                                               {6, 5, 1100},
                                                               {25, 3, 2},
                                                               {70, 50, 130},
                                                               {40, 100, 200},
                                                               {130, 97, 300},
                                                               {600, 100, 129}}));
    INFO("m " << m << ", n " << n << ", k " << k);
    {
        const auto* kernels = xtnn::detail::simd_products(xtnn::simd_level::avx512);
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                for (const auto& [beta, strips] :
                     {std::pair{0.0F, false}, std::pair{1.0F, false}, std::pair{-0.5F, false},
                      std::pair{0.0F, true}, std::pair{-0.5F, true}}) {
                    if (strips && !tb) {
                        continue; // the same tiles either way
                    }
                    INFO("transpose_a " << ta << ", transpose_b " << tb << ", beta " << beta
                                        << ", transposed strips " << strips);
                    // Stored extents plus 3 unused columns each.
                    const std::size_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
                    const auto a = xtnn::test::random_tensor<float, 2>({ta ? k : m, lda}, 1);
                    const auto b = xtnn::test::random_tensor<float, 2>({tb ? n : k, ldb}, 2);
                    auto c = xtnn::test::random_tensor<float, 2>({m, ldc}, 3);
                    if (beta == 0.0F) {
                        c(m - 1, 0) = std::nanf(""); // overwritten, not scaled
                    }
                    const auto before = c;
                    const bool done = kernels->gemm(ta, tb, strips, m, n, k, 1.5F, a.data(), lda,
                                                    b.data(), ldb, beta, c.data(), ldc);
                    if (ta && tb) {
                        CHECK_FALSE(done); // BLAS's to do
                        CHECK(std::memcmp(c.data(), before.data(), c.size() * sizeof(float)) == 0);
                        continue;
                    }
                    REQUIRE(done);
                    double worst = 0.0;
                    std::size_t outside = 0;
                    for (std::size_t i = 0; i < m; ++i) {
                        for (std::size_t j = 0; j < ldc; ++j) {
                            if (j >= n) {
                                outside += c(i, j) == before(i, j) ? 0U : 1U;
                                continue;
                            }
                            double sum = 0.0;
                            for (std::size_t p = 0; p < k; ++p) {
                                sum += static_cast<double>(ta ? a(p, i) : a(i, p)) *
                                       static_cast<double>(tb ? b(j, p) : b(p, j));
                            }
                            const double old = beta == 0.0F ? 0.0 : beta * before(i, j);
                            const double want = 1.5 * sum + old;
                            const double got = c(i, j);
                            worst = std::max(worst, std::isnan(got) ? 1e30 : std::abs(got - want));
                        }
                    }
                    CHECK(outside == 0); // the columns past n are never written
                    CHECK(worst < 2e-6 * static_cast<double>(k + 1));
                }
            }
        }
    }
    SECTION("k = 0 is BLAS's to do (C = beta C)") {
        float c = 1.0F;
        CHECK_FALSE(
            xtnn::detail::simd_products(xtnn::simd_level::avx512)
                ->gemm(false, false, false, 1, 1, 0, 1.0F, nullptr, 1, nullptr, 1, 0.0F, &c, 1));
        CHECK(c == 1.0F);
    }
}

TEST_CASE("gemm: xtnn's own AVX-512 gemv matches the definition", "[core][blas][simd]") {
    // The kernel directly (gemm() takes it for a single row or column of output, where xtnn's
    // sgemm runs). Rows past a tile (8) and columns past a vector and past the transposed
    // form's strip (64), strides wider than the extents; y's values between its strided
    // places, and the forms the kernel leaves to BLAS, untouched.
    const auto detected = xtnn::detected_simd();
    if (detected < xtnn::simd_level::avx512) {
        WARN("no AVX-512 on this CPU: xtnn's gemv kernel is not used here, not tested");
        return;
    }
    CHECK(xtnn::detail::simd_products(xtnn::simd_level::avx2) == nullptr);
    const auto* kernels = xtnn::detail::simd_products(xtnn::simd_level::avx512);
    const auto [rows, cols] = GENERATE(table<std::size_t, std::size_t>(
        {{1, 1}, {3, 17}, {8, 16}, {9, 70}, {128, 784}, {10, 128}, {33, 5}, {200, 130}}));
    for (const bool trans : {false, true}) {
        for (const std::size_t stride : {std::size_t{1}, std::size_t{3}}) {
            for (const float beta : {0.0F, 1.0F, -0.5F}) {
                INFO("rows " << rows << ", cols " << cols << ", trans " << trans << ", stride "
                             << stride << ", beta " << beta);
                const std::size_t lda = cols + 5, in = trans ? rows : cols;
                const std::size_t out = trans ? cols : rows;
                // x strided for the transposed form, y for the other: the forms it takes.
                const std::size_t incx = trans ? stride : 1, incy = trans ? 1 : stride;
                const auto a = xtnn::test::random_tensor<float, 2>({rows, lda}, 1);
                const auto x = xtnn::test::random_tensor<float, 1>({in * incx}, 2);
                auto y = xtnn::test::random_tensor<float, 1>({out * incy}, 3);
                if (beta == 0.0F) {
                    y(0) = std::nanf(""); // overwritten, not scaled
                }
                const auto before = y;
                REQUIRE(kernels->gemv(trans, rows, cols, 1.5F, a.data(), lda, x.data(), incx, beta,
                                      y.data(), incy));
                double worst = 0.0;
                for (std::size_t i = 0; i < out; ++i) {
                    double sum = 0.0;
                    for (std::size_t p = 0; p < in; ++p) {
                        sum += static_cast<double>(trans ? a(p, i) : a(i, p)) *
                               static_cast<double>(x(p * incx));
                    }
                    const double want = 1.5 * sum + (beta == 0.0F ? 0.0 : beta * before(i * incy));
                    const double got = y(i * incy);
                    worst = std::max(worst, std::isnan(got) ? 1e30 : std::abs(got - want));
                }
                CHECK(worst < 2e-6 * static_cast<double>(in + 1));
                std::size_t moved = 0; // between y's places
                for (std::size_t i = 0; i < y.size(); ++i) {
                    moved += i % incy != 0 && y(i) != before(i) ? 1U : 0U;
                }
                CHECK(moved == 0);
                // The other stride's form is BLAS's to do, y untouched.
                auto same = before;
                CHECK_FALSE(kernels->gemv(trans, rows, cols, 1.5F, a.data(), lda, x.data(),
                                          trans ? 1 : 2, beta, same.data(), trans ? 2 : 1));
                CHECK(std::memcmp(same.data(), before.data(), same.size() * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("gemm: xtnn's own kernels give the same bits on one thread and on two",
          "[core][blas][simd][threads]") {
    if (xtnn::active_simd() != xtnn::simd_level::avx512) {
        WARN("xtnn's sgemm kernels need AVX-512, which this CPU (or XTNN_SIMD) does not give");
        return;
    }
    const auto& kernels = *xtnn::detail::simd_products(xtnn::simd_level::avx512);
    // C split by rows (m >= n) and by columns, for each form the kernels take: products of
    // more than 16 MFLOP (two parts of 8), the first of 128 rows, where A·Bᵀ runs on
    // transposed strips whole and would not on either part alone.
    const auto [m, n, k] = GENERATE(table<std::size_t, std::size_t, std::size_t>(
        {{128, 128, 784}, {300, 200, 300}, {60, 1000, 300}}));
    for (const bool ta : {false, true}) {
        for (const bool tb : {false, true}) {
            if (ta && tb) {
                continue;
            }
            INFO("m " << m << ", n " << n << ", k " << k << ", transpose_a " << ta
                      << ", transpose_b " << tb);
            const auto a = xtnn::test::random_tensor<float, 2>(
                ta ? xtnn::shape<2>{k, m} : xtnn::shape<2>{m, k}, 4);
            const auto b = xtnn::test::random_tensor<float, 2>(
                tb ? xtnn::shape<2>{n, k} : xtnn::shape<2>{k, n}, 5);
            const xtnn::gemm_options o{.transpose_a = ta, .transpose_b = tb};
            xtnn::tensor<float, 2> one(xtnn::shape<2>{m, n}), two(xtnn::shape<2>{m, n});
            const auto before = xtnn::num_threads();
            // As xtnn::gemm runs them where they suit, whatever this machine's BLAS.
            // (Extents through c: clang 14 captures no structured bindings.)
            const auto run = [&](xtnn::tensor<float, 2>& c, xtnn::product_split how) {
                const std::size_t rows = c.shape()[0], cols = c.shape()[1];
                xtnn::detail::own_sgemm_run(
                    kernels, ta, tb, rows, cols, ta ? a.shape()[0] : a.shape()[1], 1.0F, a.data(),
                    a.shape()[1], b.data(), b.shape()[1], 0.0F, c.data(), cols, how);
            };
            xtnn::set_num_threads(1);
            run(one, xtnn::product_split::automatic);
            CHECK(xtnn::test::max_abs_difference(one, reference_gemm(a, b, one, o)) <
                  2e-6 * static_cast<double>(k));
            // Split by the longer side in whole tiles, or by either side as a weight's owned
            // rows are (parts of 8 rows or columns, edges of tiles between them).
            for (const auto how : {xtnn::product_split::automatic, xtnn::product_split::rows,
                                   xtnn::product_split::columns}) {
                INFO("split " << static_cast<int>(how));
                xtnn::set_num_threads(2);
                run(two, how);
                xtnn::set_num_threads(before);
                CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("gemm: xtnn's own sgemm takes the shapes it was measured faster at", "[core][blas]") {
    using xtnn::detail::blas_sgemm;
    using xtnn::detail::own_sgemm_suits;
    // The MNIST MLP's products: forward x·Wᵀ, the output layer's input gradient dy·W, the
    // weight gradients dyᵀ·x (m, n, k as BLAS sees them).
    struct product {
        bool ta, tb;
        std::size_t m, n, k;
        bool narrower, avx512;
    };
    const auto p = GENERATE(values<product>({
        {false, true, 32, 128, 784, true, true},    // first layer forward, batch 32
        {false, true, 128, 128, 784, true, false},  // ... batch 128: OpenBLAS's panels win
        {false, true, 1000, 128, 784, true, false}, // batch-1,000 inference
        {false, true, 32, 10, 128, true, false},    // output layer forward, batch 32
        {false, true, 128, 10, 128, true, true},    // ... batch 128: OpenBLAS's slow path
        {false, false, 32, 128, 10, true, true},    // input gradient dy·W
        {true, false, 128, 784, 32, true, true},    // first layer's weight gradient
        {true, false, 10, 128, 32, true, false},    // output layer's: 10 rows
        {false, false, 8, 4, 4608, false, false},   // a 512-channel 2 × 2 plane, unfolded
        {false, true, 8, 64, 16, false, false},     // short sums
        {true, true, 64, 64, 64, false, false},     // both transposed: BLAS's only
        {false, false, 64, 64, 0, false, false},    // k = 0: BLAS's (it scales C)
    }));
    INFO("transpose_a " << p.ta << ", transpose_b " << p.tb << ", m " << p.m << ", n " << p.n
                        << ", k " << p.k);
    CHECK(own_sgemm_suits(blas_sgemm::narrower, p.ta, p.tb, p.m, p.n, p.k) == p.narrower);
    CHECK(own_sgemm_suits(blas_sgemm::avx512, p.ta, p.tb, p.m, p.n, p.k) == p.avx512);
    // Another BLAS than OpenBLAS is never overridden.
    CHECK_FALSE(own_sgemm_suits(blas_sgemm::other, p.ta, p.tb, p.m, p.n, p.k));
}
