/// @file
/// Inverted dropout: zeroes a random fraction of activations while training.
#pragma once

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

template <std::floating_point T, std::size_t N>
class dropout_layer;

/// The dropout spec for sequential: `xtnn::dropout{0.2}` drops 20 % of activations.
///
/// It becomes a dropout_layer of the previous layer's scalar type and rank.
/// @code
/// xtnn::sequential model{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
///                        xtnn::dense{128, 10}};
/// @endcode
/// @ingroup layers
struct dropout {
    /// The layer this spec becomes after a layer with scalar `T` and rank `N`.
    template <std::floating_point T, std::size_t N>
    using bound_layer = dropout_layer<T, N>;
    static constexpr std::string_view name = "dropout"; ///< The name in summaries.
    double rate = 0.5;      ///< The probability of zeroing each element, in [0, 1).
    std::uint64_t seed = 0; ///< Seed of the masks (a model's initialize() reseeds it).

    /// What a description records: `dropout(rate=…)` (the seed chooses masks only).
    static constexpr auto fields() { return std::tuple{field("rate", &dropout::rate)}; }
};

/// Inverted dropout: in training, each element is kept with probability `1 - rate` and scaled
/// by `1 / (1 - rate)`, else zeroed; in inference it is the identity.
///
/// Forward (training): `y = x ⊙ m`, m_i = 1/(1-rate) with probability 1-rate, else 0; a new
/// mask every forward, drawn from the layer's seeded engine (same seed: same masks).
/// Backward: `dx = dy ⊙ m` (or `dy` after an inference forward). Shapes: any rank, y = x.
/// @tparam T the scalar type. @tparam N the rank.
/// @throws config_error if the rate is not in [0, 1).
/// @code
/// xtnn::dropout_layer<float, 2> d(xtnn::dropout{.rate = 0.2, .seed = 7});
/// auto y = xtnn::apply(d, x, xtnn::mode::training);
/// @endcode
/// @ingroup layers
template <std::floating_point T = float, std::size_t N = 2>
class dropout_layer : public layer_base<dropout_layer<T, N>, T, N, N> {
  public:
    static constexpr std::string_view name = "dropout"; ///< The name in summaries.
    /// In inference it passes each sample on (see xtnn::independent_samples).
    static constexpr bool independent_samples = true;
    /// Masks are drawn in the samples' order, two elements a draw: groups of an even number
    /// of elements draw the whole batch's masks (see xtnn::trains_by_samples).
    static constexpr bool trains_by_samples = true;
    using options_type = dropout; ///< What it is built from.
    /// Element by element: a padding mask goes on unchanged.
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::passes;

    /// A dropout layer with the spec's rate and seed.
    explicit dropout_layer(dropout spec = {}) : spec_(spec), rng_(spec.seed) {
        detail::require_option(spec.rate >= 0.0 && spec.rate < 1.0, "dropout", "rate", "in [0, 1)",
                               spec.rate);
        // An element is dropped when 32 random bits fall below rate * 2^32.
        threshold_ = static_cast<std::uint64_t>(spec.rate * 4294967296.0);
        scale_ = static_cast<T>(1.0 / (1.0 - spec.rate));
    }

    /// The drop probability.
    double rate() const { return spec_.rate; }
    /// The spec it was built from (its rate is what a description records).
    const dropout& options() const { return spec_; }

    /// Reseeds the masks from `rng` (called by sequential::initialize).
    void initialize(random_engine& rng) { rng_ = random_engine(rng()); }
    /// The engine of the masks, which fit's backups save and restore.
    random_engine& random_stream() { return rng_; }

    /// The output has the input's shape.
    shape<N> output_shape(const shape<N>& input) const { return input; }

  private:
    friend layer_access;

    /// Training: `y = x ⊙ mask` with a fresh mask; inference: `y = x`.
    void compute_forward(const tensor<T, N>& x, tensor<T, N>& y, mode m) {
        const std::size_t n = x.size();
        const T* in = x.data();
        T* out = y.data();
        last_mode_ = m;
        if (m == mode::inference || threshold_ == 0) {
            std::copy(in, in + n, out);
            return;
        }
        if (mask_.shape() != x.shape()) {
            mask_.resize(x.shape());
        }
        T* mask = mask_.data();
        // Each 64-bit draw decides two elements (its two 32-bit halves), in two passes so
        // that the second runs in vector registers: the draws first, each into the mask's
        // memory of its two elements, then each pair of elements from its draw. Without a
        // branch: the decisions are random, and a branch mispredicted on half of them made
        // this pass 5× slower.
        static_assert(sizeof(T) * 2 >= sizeof(std::uint64_t));
        const std::size_t pairs = n / 2;
        for (std::size_t p = 0; p < pairs; ++p) {
            const std::uint64_t bits = rng_();
            std::memcpy(mask + 2 * p, &bits, sizeof bits);
        }
        if constexpr (sizeof(T) == sizeof(std::uint32_t) &&
                      std::endian::native == std::endian::little) {
            // Element j's 32 bits are where the draw left them: one element per lane.
            const auto threshold = static_cast<std::uint32_t>(threshold_);
            for (std::size_t j = 0; j < 2 * pairs; ++j) {
                std::uint32_t bits = 0;
                std::memcpy(&bits, mask + j, sizeof bits);
                const T scale = kept(bits >= threshold);
                mask[j] = scale;
                out[j] = in[j] * scale;
            }
        } else {
            for (std::size_t p = 0; p < pairs; ++p) {
                std::uint64_t bits = 0;
                std::memcpy(&bits, mask + 2 * p, sizeof bits);
                mask[2 * p] = kept((bits & 0xFFFFFFFFULL) >= threshold_);
                mask[2 * p + 1] = kept((bits >> 32) >= threshold_);
                out[2 * p] = in[2 * p] * mask[2 * p];
                out[2 * p + 1] = in[2 * p + 1] * mask[2 * p + 1];
            }
        }
        if (n % 2 != 0) {
            mask[n - 1] = kept((rng_() & 0xFFFFFFFFULL) >= threshold_);
            out[n - 1] = in[n - 1] * mask[n - 1];
        }
    }

    // The scale if `keep`, else 0: by masking its bits where T is 32 or 64 bits wide (a
    // select that compilers keep branch-free).
    T kept(bool keep) const {
        if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
            using bits_type = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
            bits_type bits = 0;
            std::memcpy(&bits, &scale_, sizeof bits);
            bits &= bits_type{0} - static_cast<bits_type>(keep);
            T value = 0;
            std::memcpy(&value, &bits, sizeof value);
            return value;
        } else {
            return keep ? scale_ : T(0);
        }
    }

    /// `dx = dy ⊙ mask` of the last training forward (`dx = dy` after an inference forward).
    /// @throws std::logic_error if no forward ran for this shape.
    void compute_backward(const tensor<T, N>& x, const tensor<T, N>&, const tensor<T, N>& dy,
                          tensor<T, N>* dx) const {
        if (dx == nullptr) {
            return;
        }
        const std::size_t n = x.size();
        const T* g = dy.data();
        T* d = dx->data();
        if (last_mode_ == mode::inference || threshold_ == 0) {
            std::copy(g, g + n, d);
            return;
        }
        if (mask_.shape() != x.shape()) {
            throw std::logic_error("dropout::backward: no training forward ran for input shape " +
                                   format_shape(x.shape()));
        }
        const T* mask = mask_.data();
        for (std::size_t j = 0; j < n; ++j) {
            d[j] = g[j] * mask[j];
        }
    }

    dropout spec_;
    std::uint64_t threshold_ = 0;
    T scale_ = 1;
    random_engine rng_;
    tensor<T, N> mask_;
    mode last_mode_ = mode::inference;
};

} // namespace xtnn
