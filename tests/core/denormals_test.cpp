#include <cfloat>
#include <cmath>

#include <catch2/catch.hpp>

#include <xtnn/core/denormals.hpp>

namespace {
// Read through volatile so the compiler cannot fold the product at compile time.
volatile float half = 0.5f;
float multiply(float a) {
    return a * half;
}
} // namespace

TEST_CASE("denormals: the guard flushes denormals and restores the caller's mode",
          "[core][denormals]") {
#if XTNN_HAS_MXCSR
    const float tiny = FLT_MIN;             // smallest normal float
    constexpr unsigned status_flags = 0x3F; // sticky exception flags, not modes
    const unsigned before = _mm_getcsr() & ~status_flags;
    REQUIRE(std::fpclassify(multiply(tiny)) == FP_SUBNORMAL);
    {
        xtnn::flush_denormals_guard guard;
        CHECK(multiply(tiny) == 0.0f);
        {
            xtnn::flush_denormals_guard nested;
            CHECK(multiply(tiny) == 0.0f);
        }
        CHECK(multiply(tiny) == 0.0f); // the inner guard restored the outer's mode
    }
    CHECK((_mm_getcsr() & ~status_flags) == before);
    CHECK(std::fpclassify(multiply(tiny)) == FP_SUBNORMAL);
#else
    SUCCEED("no MXCSR on this CPU: the guard does nothing");
#endif
}
