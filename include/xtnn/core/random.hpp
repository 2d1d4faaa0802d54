/// @file
/// The seeded random engine: the same seed gives the same bits, on any run and machine.
#pragma once

#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace xtnn {

/// A seeded source of random numbers whose output depends on the seed alone.
///
/// The bits come from `std::mt19937_64`, whose sequence the C++ standard fixes. The standard
/// *distributions* are implementation-defined (libstdc++ and libc++ differ), so the uniform
/// and normal draws are computed here from the raw bits: a given seed gives the same floats
/// with every compiler and standard library. Nothing is shared between engines, so results do
/// not depend on threads either. It satisfies `std::uniform_random_bit_generator`.
///
/// @code
/// xtnn::random_engine rng(42);
/// float u = rng.uniform(-1.0f, 1.0f);
/// double z = rng.normal();
/// @endcode
/// @ingroup core
class random_engine {
  public:
    /// The type of the raw bits.
    using result_type = std::uint64_t;

    /// Seeds the engine; equal seeds give equal sequences.
    explicit random_engine(std::uint64_t seed = 0) : bits_(seed) {}

    /// The smallest raw value.
    static constexpr result_type min() { return std::mt19937_64::min(); }
    /// The largest raw value.
    static constexpr result_type max() { return std::mt19937_64::max(); }

    /// 64 random bits.
    result_type operator()() { return next(); }

    /// A double uniform in [0, 1), from the top 53 bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// A value uniform in [low, high).
    template <std::floating_point T>
    T uniform(T low, T high) {
        return static_cast<T>(static_cast<double>(low) +
                              (static_cast<double>(high) - static_cast<double>(low)) * uniform());
    }

    /// A standard normal value (Box-Muller transform; both values of each pair are used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        // 1 - uniform() is in (0, 1], so the logarithm is finite.
        const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
        const double angle = 2.0 * std::numbers::pi * uniform();
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

    /// A normal value with the given mean and standard deviation.
    template <std::floating_point T>
    T normal(T mean, T stddev) {
        return static_cast<T>(static_cast<double>(mean) + static_cast<double>(stddev) * normal());
    }

    /// An integer uniform in [0, n), without modulo bias; 0 when n is 0.
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) {
            return 0;
        }
        // Reject the top partial block of 2^64 so every residue is equally likely.
        const std::uint64_t limit = max() - max() % n;
        std::uint64_t r = next();
        while (r >= limit) {
            r = next();
        }
        return r % n;
    }

    /// Shuffles a range in place (Fisher-Yates): the same seed gives the same permutation.
    template <class T>
    void shuffle(std::span<T> values) {
        for (std::size_t i = values.size(); i > 1; --i) {
            const auto j = static_cast<std::size_t>(below(i));
            std::swap(values[i - 1], values[j]);
        }
    }

    /// The engine's whole state as text (the standard's text form of the mt19937_64, then the
    /// Box-Muller spare): what a backup keeps so that a resumed run draws the same numbers.
    std::string state() const {
        std::ostringstream out;
        out << bits_ << ' ' << (has_spare_ ? 1 : 0) << ' ' << std::bit_cast<std::uint64_t>(spare_);
        return out.str();
    }

    /// Continues from a state() of an engine; false, leaving this engine as it was, if `text`
    /// is not one.
    bool restore(std::string_view text) {
        std::istringstream in{std::string(text)};
        std::mt19937_64 bits;
        int has_spare = 0;
        std::uint64_t spare = 0;
        in >> bits >> has_spare >> spare;
        if (in.fail() || (has_spare != 0 && has_spare != 1) || !(in >> std::ws).eof()) {
            return false;
        }
        bits_ = bits;
        has_spare_ = has_spare == 1;
        spare_ = std::bit_cast<double>(spare);
        return true;
    }

    /// How many raw 64-bit values the engine has given (or skipped) since it was made,
    /// seeded or copied from: how fit finds what each group of a step draws. Not part of
    /// state().
    std::uint64_t draws() const { return draws_; }

    /// Whether a normal() value is pending (Box-Muller's second of a pair): the next normal()
    /// takes no raw values.
    bool holds_spare() const { return has_spare_; }

    /// Skips `n` raw values: the engine continues as if it had given them.
    void skip(std::uint64_t n) {
        bits_.discard(n);
        draws_ += n;
    }

  private:
    result_type next() {
        ++draws_;
        return bits_();
    }

    std::mt19937_64 bits_;
    std::uint64_t draws_ = 0;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

/// Derives an independent seed for stream `index` of a base seed (splitmix64 mixing).
///
/// Used to give each layer of a model its own stream from one model seed.
/// @ingroup core
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

} // namespace xtnn
