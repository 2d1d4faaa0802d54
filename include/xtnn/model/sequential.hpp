/// @file
/// sequential: a chain of layers composed into one concrete model type.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/activations/relu.hpp>
#include <xtnn/core/concepts.hpp>
#include <xtnn/core/denormals.hpp>
#include <xtnn/core/epilogue.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/core/visit.hpp>
#include <xtnn/layers/bind.hpp>

namespace xtnn {

/// @defgroup model Model
/// Composing layers into a model that owns every buffer of a training step.

namespace detail {

template <class... Ts>
struct type_list {};

template <class T, class List>
struct prepend;
template <class T, class... Ts>
struct prepend<T, type_list<Ts...>> {
    using type = type_list<T, Ts...>;
};

/// Binds each spec to the scalar type and rank of the layer before it.
template <class Previous, class... Specs>
struct bind_chain {
    using type = type_list<>;
};
template <class Previous, class S, class... Rest>
struct bind_chain<Previous, S, Rest...> {
    using bound = bind_layer_t<S, typename Previous::value_type, Previous::output_rank>;
    using type = typename prepend<bound, typename bind_chain<bound, Rest...>::type>::type;
};

template <class First, class... Rest>
struct bind_all {
    static_assert(layer<First>,
                  "xtnn: layer 0 of a sequential must be a layer with fixed types (such as "
                  "dense); activations and specs (relu, dropout, flatten, softmax) take their "
                  "types from the layer before them, so as the first layer write the bound "
                  "type, e.g. xtnn::flatten_layer<float, 3>{}");
    using type = typename prepend<First, typename bind_chain<First, Rest...>::type>::type;
};

/// Instantiated for each pair of neighbours, `Position` being the later layer's index; when the
/// assertion fails, the compiler's "in instantiation of link_to_layer<…>" note names the
/// position and both layer types.
template <std::size_t Position, class Previous, class Next>
struct link_to_layer {
    static constexpr bool same_scalar =
        std::same_as<typename Previous::value_type, typename Next::value_type>;
    static constexpr bool same_rank = Previous::output_rank == Next::input_rank;
    static constexpr bool images_into_features = Previous::output_rank > 2 && Next::input_rank == 2;
    static_assert(same_scalar,
                  "xtnn: sequential: a layer's scalar type differs from the layer before it's; "
                  "use one scalar type (float or double) throughout. The note 'in instantiation "
                  "of link_to_layer<N, previous, next>' names layer N and both types");
    static_assert(!same_scalar || !images_into_features,
                  "xtnn: sequential: a layer takes rank 2 (batch, features) but the layer "
                  "before it gives images (rank 3 or 4): add xtnn::flatten{} between them. The "
                  "note 'in instantiation of link_to_layer<N, previous, next>' names layer N "
                  "and both types");
    static_assert(!same_scalar || images_into_features || same_rank,
                  "xtnn: sequential: a layer takes another rank than the layer before it gives "
                  "(its output type is not the next layer's input type). The note 'in "
                  "instantiation of link_to_layer<N, previous, next>' names layer N and both "
                  "types");
    static constexpr bool value = true;
};

/// Whether a padding mask reaches layer `i` of layers whose mask uses are `uses`, given whether
/// one enters the first: a layer that makes one starts it, one that consumes it (or does not
/// handle masks) ends it.
template <std::size_t N>
constexpr bool mask_reaches(const std::array<mask_use, N>& uses, std::size_t i, bool entering) {
    bool masked = entering;
    for (std::size_t j = 0; j < i && j < N; ++j) {
        if (uses[j] == mask_use::makes) {
            masked = true;
        } else if (uses[j] == mask_use::consumes || uses[j] == mask_use::none) {
            masked = false;
        }
    }
    return masked;
}

/// Instantiated for each layer a mask may reach; when the assertion fails, the note "in
/// instantiation of mask_handled<N, L, true>" names the layer's position N and type L.
template <std::size_t Position, class L, bool Masked>
struct mask_handled {
    static_assert(!Masked || mask_use_of<L> != mask_use::none,
                  "xtnn: sequential: a padding mask reaches a layer that does not handle masks "
                  "(it declares no mask_use), so its output would mix padding into the real "
                  "steps. The note 'in instantiation of mask_handled<N, L, true>' names its "
                  "position N and type L");
    static constexpr bool value = true;
};

/// The mask_use of layers `uses` composed in order: what a nested sequential declares.
template <std::size_t N>
constexpr mask_use composed_mask_use(const std::array<mask_use, N>& uses) {
    bool makes = false;
    for (const auto u : uses) {
        makes = makes || u == mask_use::makes;
    }
    if (makes) { // its own mask leaves it, if nothing after the maker drops it
        return mask_reaches(uses, N, false) ? mask_use::makes : mask_use::none;
    }
    bool masked = true;
    bool only_passes = true;
    for (const auto u : uses) {
        if (masked && u == mask_use::none) {
            return mask_use::none;
        }
        only_passes = only_passes && u == mask_use::passes;
        masked = masked && u != mask_use::consumes;
    }
    return masked ? (only_passes ? mask_use::passes : mask_use::reads) : mask_use::consumes;
}

inline std::string group_thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) {
            out += ',';
        }
        out += digits[i];
    }
    return out;
}

/// The number of floating-point buffer values: what the summary counts as non-trainable
/// parameters, as Keras does (an integer counter such as num_batches_tracked is not one).
template <class T>
std::size_t statistic_count(const std::vector<buffer_view<T>>& buffers) {
    std::size_t n = 0;
    for (const auto& b : buffers) {
        if (std::holds_alternative<std::span<T>>(b.value)) {
            n += b.size();
        }
    }
    return n;
}

/// The values of one sample of a tensor of shape `s` (every axis but the first).
template <class Shape>
std::size_t values_per_sample(const Shape& s) {
    std::size_t n = 1;
    for (std::size_t i = 1; i < s.size(); ++i) {
        n *= s[i];
    }
    return n;
}

template <std::size_t N>
std::string format_batch_shape(const shape<N>& s) {
    std::string out = "(batch";
    for (std::size_t i = 1; i < N; ++i) {
        out += ", " + std::to_string(s[i]);
    }
    return out + ")";
}

} // namespace detail

template <class... Specs>
class sequential;

namespace detail {
template <class List>
struct sequential_storage;
template <class... Layers>
struct sequential_storage<type_list<Layers...>> {
    using layers = std::tuple<Layers...>;
    using outputs = std::tuple<typename Layers::output_type...>;
    static constexpr bool splits_batch = (splits_batch_v<Layers> || ...);
};
} // namespace detail

/// A model made of layers applied one after the other, as one concrete type.
///
/// `xtnn::sequential{xtnn::dense{784, 128}, xtnn::relu{}, xtnn::dropout{0.2},
/// xtnn::dense{128, 10}}` is a `sequential<dense<float>, relu, dropout, dense<float>>`:
/// no virtual calls, no heap-allocated layers. Activations and specs (relu, dropout, flatten,
/// softmax) take their scalar type and rank from the layer before them. At compile time each
/// layer's output type must be the next one's input type. When the model meets a new input
/// shape it checks every layer's extents before any work (the error names the layer and both
/// shapes) and sizes the buffers it owns: every layer's output and output gradient (and the
/// input gradient when asked for). Layers built on layer_base then run their maths without
/// checking again. Nested in another model or a residual, its last layer writes straight into
/// the caller's output buffer and its first layer the caller's input gradient: no copies at
/// the boundary.
/// After the first batch of a given shape, forward and backward allocate nothing.
///
/// Fused pairs: when a layer absorbs the activation before it (xtnn::absorbs_activation, as
/// max_pool2d absorbs relu), the model runs the two as one pass of the later layer over the
/// activation's input, with the same results; the activation's own buffers stay empty.
/// Epilogues: in inference, a layer that states a per-channel affine map (a batch norm with
/// running statistics) right after one that takes a channel epilogue (conv2d), and a relu
/// after it, run inside the first one's output pass (xtnn::takes_channel_epilogue,
/// fused_layers()), within float rounding of the layers apart; training runs them apart.
///
/// Training step (the loss writes d(loss)/d(output) into a buffer the caller keeps):
/// @code
/// xtnn::sequential model{xtnn::dense{2, 16}, xtnn::tanh{}, xtnn::dense{16, 2}};
/// auto params = model.parameters();              // once: views stay valid
/// xtnn::adam opt;
/// xtnn::tensor<float, 2> dy;
/// const auto& logits = model.forward(x, xtnn::mode::training);
/// float l = xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
/// model.backward(x, dy);
/// opt.step(params);
/// @endcode
///
/// Parameter names follow PyTorch's nn.Sequential: "0.weight", "0.bias", "3.weight"...
/// Composing layers re-initializes them from the model seed (0; see initialize()), so set
/// custom weights after composing, through layer<I>(). A sequential is itself a layer, so
/// models nest: a nested model's parameters are named "<outer index>.<inner index>.<name>"
/// ("1.0.weight", as PyTorch) and the outer initialize() re-seeds it. Moving or copying a model
/// invalidates parameter views taken before.
///
/// @tparam Specs the layers, activations and specs, in order.
/// @ingroup model
template <class... Specs>
class sequential {
    static_assert(sizeof...(Specs) > 0, "xtnn: a sequential needs at least one layer");
    using bound_list = typename detail::bind_all<Specs...>::type;
    using storage = detail::sequential_storage<bound_list>;
    using layers_type = typename storage::layers;
    using outputs_type = typename storage::outputs;

  public:
    /// The number of layers.
    static constexpr std::size_t size = sizeof...(Specs);
    /// The type of layer `I` once bound (e.g. activation_layer<relu, float, 2>).
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers_type>;

    using value_type = typename layer_type<0>::value_type;               ///< The scalar type.
    static constexpr std::size_t input_rank = layer_type<0>::input_rank; ///< Input rank.
    static constexpr std::size_t output_rank = layer_type<size - 1>::output_rank; ///< Output rank.
    using input_type = tensor<value_type, input_rank>;     ///< The input tensor type.
    using output_type = tensor<value_type, output_rank>;   ///< The output tensor type.
    static constexpr std::string_view name = "sequential"; ///< The name when nested.
    /// Whether a layer splits its batch over xtnn's threads: then the model's BLAS products
    /// run single-threaded while it works, each on its part's thread.
    static constexpr bool splits_batch = storage::splits_batch;

  private:
    static constexpr std::array<xtnn::mask_use, size> mask_uses_ =
        []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<xtnn::mask_use, size>{mask_use_of<layer_type<I>>...};
    }
    (std::make_index_sequence<size>{});

    /// Whether layer I is an activation that layer I + 1 runs inside itself.
    template <std::size_t I>
    static constexpr bool absorbed() {
        if constexpr (I + 1 < size) {
            return absorbs_activation<layer_type<I + 1>, layer_type<I>>;
        } else {
            return false;
        }
    }
    static constexpr std::array<bool, size> absorbed_ =
        []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<bool, size>{absorbed<I>()...};
    }
    (std::make_index_sequence<size>{});

    /// Whether layer I runs layer I - 1, an activation, inside itself.
    template <std::size_t I>
    static constexpr bool absorbs_previous() {
        if constexpr (I > 0) {
            return absorbed<I - 1>();
        } else {
            return false;
        }
    }

    /// How many layers after layer I run inside its output pass in inference (see
    /// xtnn::takes_channel_epilogue): 1 for a layer that states a per-channel affine map
    /// after a layer that takes an epilogue, 2 when a relu follows that one (unless the layer
    /// after the relu absorbs it), else 0. No padding masks among them.
    template <std::size_t I>
    static constexpr std::size_t fusable_after() {
        if constexpr (I + 1 < size) {
            using L = layer_type<I>;
            using A = layer_type<I + 1>;
            if constexpr (takes_channel_epilogue<L> && states_channel_affine<A> &&
                          std::same_as<typename A::value_type, value_type> &&
                          std::same_as<typename L::output_type, typename A::input_type> &&
                          mask_uses_[I] == xtnn::mask_use::none &&
                          mask_uses_[I + 1] == xtnn::mask_use::none && !absorbs_previous<I>()) {
                if constexpr (I + 2 < size) {
                    if constexpr (std::same_as<layer_type<I + 2>,
                                               activation_layer<relu, value_type, 4>> &&
                                  std::same_as<typename A::output_type,
                                               typename layer_type<I + 2>::input_type> &&
                                  !absorbed<I + 2>()) {
                        return 2;
                    }
                }
                return 1;
            }
        }
        return 0;
    }
    /// The layer whose output pass runs layer J in inference (see fusable_after), or size.
    template <std::size_t J>
    static constexpr std::size_t fused_into() {
        if constexpr (J >= 1) {
            if constexpr (fusable_after<J - 1>() >= 1) {
                return J - 1;
            }
        }
        if constexpr (J >= 2) {
            if constexpr (fusable_after<J - 2>() == 2) {
                return J - 2;
            }
        }
        return size;
    }
    static constexpr std::array<bool, size> joined_ =
        []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<bool, size>{(fused_into<I>() != size)...};
    }
    (std::make_index_sequence<size>{});

  public:
    /// How the model treats a padding mask as a layer of another (see xtnn::mask_use): passes
    /// it when every layer does; reads it when its layers read or pass it; consumes it when
    /// one of them consumes it; makes one when a layer of it makes one; none otherwise.
    static constexpr xtnn::mask_use mask_use = detail::composed_mask_use(mask_uses_);

    /// Composes the layers in order and initializes them from seed 0.
    explicit sequential(Specs... specs) : layers_(make_layers(bound_list{}, std::move(specs)...)) {
        check_links(std::make_index_sequence<size - 1>{});
        initialize(0);
    }

    /// Layer `I`, as bound.
    template <std::size_t I>
    layer_type<I>& layer() {
        return std::get<I>(layers_);
    }
    /// Layer `I`, as bound.
    template <std::size_t I>
    const layer_type<I>& layer() const {
        return std::get<I>(layers_);
    }

    /// Re-initializes every layer's parameters (and dropout masks) from `seed`: layer `i` draws
    /// from its own stream, derive_seed(seed, i). Same seed, same bits.
    void initialize(std::uint64_t seed) {
        for_each_layer([seed]<std::size_t I>(auto& l) {
            if constexpr (detail::initializable<std::remove_cvref_t<decltype(l)>>) {
                random_engine rng(derive_seed(seed, I));
                l.initialize(rng);
            }
        });
    }

    /// Re-initializes from a seed drawn from `rng`: how an outer model re-seeds a nested one
    /// (its layer `i` then draws from derive_seed(that seed, i)).
    void initialize(random_engine& rng) { initialize(rng()); }

    /// The output shape for an input shape, checking every layer's extents.
    /// @throws shape_error naming the first layer that rejects its input, with both shapes.
    shape<output_rank> output_shape(const shape<input_rank>& input) const {
        moved_.require_live("sequential");
        return propagate(input, []<std::size_t>(const auto&) {});
    }

    /// Checks the extents for `input` and sizes every buffer (a no-op for the current shape).
    /// @throws shape_error as output_shape().
    void build(const shape<input_rank>& input) {
        const std::lock_guard held(mutex_.get());
        moved_.require_live("sequential");
        if (built_ && *built_ == input) {
            return;
        }
        built_.reset();
        propagate(input, [this]<std::size_t I>(const auto& s) {
            if constexpr (fusable_after<I>() > 0) { // its epilogue's scales and shifts
                if (epilogue_scale_.size() < s[1]) {
                    epilogue_scale_.resize(s[1]);
                    epilogue_shift_.resize(s[1]);
                }
            }
            if constexpr (absorbed<I>()) {
                // run inside layer I + 1: neither buffer is used
            } else if constexpr (I + 1 < size) {
                resize_to(std::get<I>(outputs_), s);
                resize_to(std::get<I>(gradients_), s);
            } else { // the last output: the model's own buffer, or a caller's (forward into y)
                output_shape_ = s;
            }
        });
        size_groups(input);
        built_ = input;
    }

    /// Inference runs the model's leading layers that treat each sample on its own
    /// (xtnn::independent_samples: convolutions, pooling, activations, batch norm with running
    /// statistics, flatten, dropout, and containers of them), up to the last whose input and
    /// output for the whole batch would take more than 1 MiB, on groups of samples whose
    /// activations fit a core's L2 cache (1 MiB of them), then the rest on the whole batch: a
    /// large batch then costs per image what a small one does, with the same bits (the grouped
    /// layers compute each sample alone whatever the batch; where convolutions run as BLAS
    /// products instead of xtnn's kernels, XTNN_SIMD=portable or a CPU without AVX2, within
    /// float rounding: BLAS rounds a product's edge columns otherwise). `samples` sets the group
    /// size instead (a batch no larger runs whole; SIZE_MAX: never grouped); 0 returns to the
    /// automatic size. Training passes always run the whole batch.
    /// @code
    /// model.set_inference_group(16); // groups of at most 16 samples
    /// @endcode
    void set_inference_group(std::size_t samples) {
        const std::lock_guard held(mutex_.get());
        group_request_ = samples;
        built_.reset(); // sized again at the next call
    }

    /// Samples per group of the last inference's shape (0: it ran the whole batch).
    std::size_t inference_group() const {
        const std::lock_guard held(mutex_.get());
        return group_;
    }

    /// How many layers the last forward ran inside the output pass of the layer before them:
    /// in inference, a batch norm with running statistics (and a relu after it) right after a
    /// convolution is applied to each output as the convolution's kernels store it, a
    /// per-channel scale and shift (xtnn::takes_channel_epilogue); their own passes and
    /// buffers are skipped, and the results agree with the layers apart within float
    /// rounding. Nested models count their own; training never fuses.
    std::size_t fused_layers() const {
        const std::lock_guard held(mutex_.get());
        std::size_t fused = 0;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((fused += fused_[I] ? fusable_after<I>() : 0), ...);
        }
        (std::make_index_sequence<size>{});
        return fused;
    }

    /// Samples per group of a training step on `input` (0: the whole batch at once). fit runs
    /// a step as groups of samples, each group's forward, loss and backward while its
    /// activations are in the caches, and adds the groups' parameter gradients: a large batch
    /// then costs per sample what a small one does, with the same gradients within float
    /// rounding. It does so when every layer trains each sample apart
    /// (xtnn::trains_by_samples: convolutions, dense, pooling, activations, flatten, dropout;
    /// not batch norm, which normalizes by the batch) and no layer makes or reads a padding
    /// mask. A group's activations and their gradients take at most 2 MiB (measured on the
    /// Keras convnet: groups of 4 and 8 samples ran fastest, 1.3-1.4× whole batches of 64 and
    /// 128; those of 2 and 16 slower). On several threads, fit runs the groups of a model
    /// holding layers that split the batch (convolutions, pooling) at once, each thread its own
    /// run of them on a copy of the model (see trainer::fit); in other models the threads
    /// share each group's products, and a thread's share takes four times that. A group divides
    /// the batch, so that every group has one shape (no buffer is sized twice in a step):
    /// the largest divisor no larger than that size, and none (whole batches) when it is
    /// under half that size. set_training_group() sets the size instead. A forward and
    /// backward written by hand run the batch as given.
    /// @throws shape_error as output_shape().
    std::size_t training_group(const shape<input_rank>& input) const {
        const std::lock_guard held(mutex_.get());
        moved_.require_live("sequential");
        bool apart = true;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((apart = apart && mask_uses_[I] != xtnn::mask_use::makes &&
                      !mask_reader<layer_type<I>> && trains_by_samples(std::get<I>(layers_))),
             ...);
        }
        (std::make_index_sequence<size>{});
        const std::size_t batch = input[0];
        if (!apart || batch < 2 || training_request_ == SIZE_MAX) {
            return 0;
        }
        std::size_t values = detail::values_per_sample(input);
        propagate(input, [&]<std::size_t I>(const auto& s) {
            values += absorbed<I>() ? 0 : detail::values_per_sample(s);
        });
        // A thread's groups on a copy of its own (see trainer::fit), or its share of each.
        const std::size_t sharing = splits_batch ? 1 : num_threads();
        const std::size_t most =
            training_request_ != 0
                ? training_request_
                : std::max<std::size_t>(1, (std::size_t{1} << 19) / (2 * values)) * sharing *
                      (sharing > 1 ? 4 : 1);
        if (most >= batch) {
            return 0;
        }
        std::size_t group = most;
        while (batch % group != 0) {
            --group;
        }
        return training_request_ == 0 && 2 * group < most ? 0 : group;
    }

    /// Sets the samples per group of fit's training steps (see training_group()): the
    /// largest divisor of the batch up to `samples`; SIZE_MAX: whole batches; 0 returns to
    /// the automatic size.
    /// @code
    /// model.set_training_group(4);        // groups of 4 samples (of 2 for a batch of 6)
    /// model.set_training_group(SIZE_MAX); // whole batches
    /// @endcode
    void set_training_group(std::size_t samples) {
        const std::lock_guard held(mutex_.get());
        training_request_ = samples;
    }

    /// Holds the model for the calling thread until the returned lock is released: calls from
    /// other threads (forward, backward, xtnn::predict, fit, evaluate) wait until then. Each of
    /// those calls holds it while it runs, so several threads may share one model for predict
    /// and evaluate (they take turns; for inference in parallel give each thread a copy). What
    /// forward returns is the model's own buffer: a thread that reads it while others use the
    /// model holds the lock across the forward and the read.
    /// @code
    /// {
    ///     const auto held = model.lock();
    ///     const auto& logits = model.forward(x);
    ///     use(logits);
    /// } // released
    /// @endcode
    [[nodiscard]] std::unique_lock<std::recursive_mutex> lock() const {
        return std::unique_lock(mutex_.get());
    }

    /// A batch of the input type that the model keeps for the code that feeds it:
    /// xtnn::predict gathers each batch of a larger input into it, so that a warmed-up
    /// predict allocates only the outputs it returns (the buffer keeps the last batch, until
    /// the model goes). Callers hold lock() while they use it.
    input_type& batch_buffer() { return batch_buffer_; }

    /// Runs every layer on `x` and returns the last output (a buffer the model owns, valid
    /// until the next forward; see lock() to read it while other threads use the model).
    ///
    /// `x` must be exactly input_type: another rank or scalar type does not compile (the
    /// sentence says which rank the model takes).
    /// @throws shape_error if a layer rejects x's shape (see output_shape()).
    const output_type& forward(const input_type& x, mode m = mode::inference) {
        return run_forward<false>(x, m, nullptr, nullptr);
    }

    /// Runs every layer on `x`, a batch of sequences `(batch, time, …)` padded as `mask`
    /// says (see xtnn::sequence_mask): the layers that read masks get it, the others pass it
    /// on. The mask must outlive the backward pass that follows.
    /// @throws shape_error if a layer rejects x's shape or the mask is not (batch, time).
    const output_type& forward(const input_type& x, const sequence_mask& mask,
                               mode m = mode::inference) {
        return run_forward<true>(x, m, nullptr, &mask);
    }

    /// The layer interface, as a nested model or a residual's block: forward into a caller's
    /// buffer `y`, of the output's shape, which the last layer writes directly (no copy).
    /// @throws shape_error if a layer rejects x or y is not the output's shape.
    void forward(const input_type& x, output_type& y, mode m = mode::inference) {
        run_forward<false>(x, m, &y, nullptr);
    }

    /// The layer interface of a model that reads masks, nested in another: forward into `y`
    /// with the mask that reaches it (null: none).
    void forward(const input_type& x, output_type& y, mode m, const sequence_mask* mask) {
        if (mask != nullptr) {
            run_forward<true>(x, m, &y, mask);
        } else {
            run_forward<false>(x, m, &y, nullptr);
        }
    }

    /// Back-propagates `dy` = d(loss)/d(output) through every layer, writing every parameter
    /// gradient; with `input_gradient`, also d(loss)/dx (see input_gradient()).
    ///
    /// `x` must be the input of the last forward, which must have run in training mode.
    /// @throws std::logic_error if no training forward ran for x's shape.
    /// @throws shape_error if dy is not the output's shape.
    void backward(const input_type& x, const output_type& dy, bool input_gradient = false) {
        run_backward<false>(x, dy, input_gradient, nullptr, nullptr, nullptr);
    }

    /// Back-propagates `dy` after forward(x, mask, mode::training), with the same mask.
    /// @throws std::logic_error if the last forward was not a training pass with a mask.
    void backward(const input_type& x, const sequence_mask& mask, const output_type& dy,
                  bool input_gradient = false) {
        run_backward<true>(x, dy, input_gradient, nullptr, nullptr, &mask);
    }

    /// The layer interface: backward given the forward's `x` and `y` (the caller's buffer),
    /// the first layer writing the input gradient directly into `*dx` if not null (resized to
    /// x's shape if it has another).
    void backward(const input_type& x, const output_type& y, const output_type& dy,
                  input_type* dx) {
        run_backward<false>(x, dy, false, &y, dx, nullptr);
    }

    /// The layer interface of a model that reads masks: backward with the same mask.
    void backward(const input_type& x, const output_type& y, const output_type& dy, input_type* dx,
                  const sequence_mask* mask) {
        if (mask != nullptr) {
            run_backward<true>(x, dy, false, &y, dx, mask);
        } else {
            run_backward<false>(x, dy, false, &y, dx, nullptr);
        }
    }

    /// @cond XTNN_DETAIL
    // Any other tensor type in the place of input_type, output_type or sequence_mask: xtensor
    // would convert it implicitly (and a tensor of another rank corrupts memory), so these
    // overloads, exact matches for it, win and say in one sentence what the model takes.
    template <class X>
    requires(!std::same_as<X, input_type>) detail::rejected
        forward(const X&, mode = mode::inference) {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::forward: the model takes", "input", input, X,
                                   value_type, input_rank);
        return {};
    }
    template <class X, class M>
    requires(!std::same_as<X, input_type> || !std::same_as<M, sequence_mask>) detail::rejected
        forward(const X&, const M&, mode = mode::inference) {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::forward: the model takes", "input", input, X,
                                   value_type, input_rank);
        static_assert(!std::same_as<X, input_type> || std::same_as<M, sequence_mask>,
                      "xtnn: sequential::forward: after the input comes a padding mask "
                      "(xtnn::sequence_mask) or an output buffer (a non-const output_type)");
        return {};
    }
    template <class X>
    requires(!std::same_as<X, input_type>) detail::rejected
        forward(const X&, output_type&, mode = mode::inference, const sequence_mask* = nullptr) {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::forward: the model takes", "input", input, X,
                                   value_type, input_rank);
        return {};
    }
    template <class X, class DY>
    requires(!std::same_as<X, input_type> || !std::same_as<DY, output_type>) detail::rejected
        backward(const X&, const DY&, bool = false) {
        reject_backward<X, output_type, DY>();
        return {};
    }
    template <class X, class M, class DY>
    requires(!std::same_as<X, input_type> || !std::same_as<M, sequence_mask> ||
             !std::same_as<DY, output_type>) detail::rejected
        backward(const X&, const M&, const DY&, bool = false) {
        static_assert(!std::same_as<X, input_type> || std::same_as<M, sequence_mask>,
                      "xtnn: sequential::backward: after the input comes the padding mask of the "
                      "forward pass (xtnn::sequence_mask)");
        reject_backward<X, output_type, DY>();
        return {};
    }
    template <class X, class Y, class DY>
    requires(!std::same_as<X, input_type> || !std::same_as<Y, output_type> ||
             !std::same_as<DY, output_type>) detail::rejected
        backward(const X&, const Y&, const DY&, input_type*, const sequence_mask* = nullptr) {
        reject_backward<X, Y, DY>();
        return {};
    }
    /// @endcond

    /// The layer interface of a model that makes a mask: the one its layer made in the last
    /// forward.
    void make_mask(const input_type&, sequence_mask& mask) const
        requires(mask_use == xtnn::mask_use::makes) {
        if (mask.shape() != made_mask_.shape()) {
            mask.resize(made_mask_.shape());
        }
        std::copy(made_mask_.begin(), made_mask_.end(), mask.begin());
    }

    /// d(loss)/dx from the last backward called with `input_gradient = true`.
    const input_type& input_gradient() const { return input_gradient_; }

    /// Every layer's parameters in order, named "<layer index>.<name>" (PyTorch's names).
    ///
    /// Take them once and pass them to the optimizer at every step: the views stay valid
    /// while the model lives and is not moved or copied.
    std::vector<parameter_view<value_type>> parameters() { return collect_parameters(*this); }

    /// Every layer's buffers in order (state that is not trained, such as batch norm's running
    /// statistics), named like parameters ("1.running_mean", nested "2.0.running_mean");
    /// empty when no layer has any. Optimizers never see them; save_weights, load_weights,
    /// model_checkpoint and early stopping carry them with the parameters.
    std::vector<buffer_view<value_type>> buffers() { return collect_buffers(*this); }

    /// The key of layer `i` in state-dict names: its index, "0", "1"…
    static std::string key(std::size_t i) { return std::to_string(i); }

    /// Calls `f(key(i), layer i)` for every layer, in order:
    /// the container protocol that visit() and the state-dict names follow.
    template <class F>
    void visit_children(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::string_view(key(I)), std::get<I>(layers_)), ...);
        }
        (std::make_index_sequence<size>{});
    }
    /// The same, const.
    template <class F>
    void visit_children(F&& f) const {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::string_view(key(I)), std::get<I>(layers_)), ...);
        }
        (std::make_index_sequence<size>{});
    }

    /// `sequential(layer 0, layer 1, …)`: every layer's description, in order; what
    /// save_weights() records in a weight file (architecture_of()).
    layer_description describe() const { return describe_container(*this); }

    /// The model that `d` describes, its layer `i` built from `d.layers[i]` (see
    /// xtnn::from_description()); `path` is its place in an outer model ("" for the root).
    /// @throws config_error naming the first layer that differs in kind, layer count or options.
    static sequential from_description(const layer_description& d, const std::string& path) {
        if (d.kind != name || d.layers.size() != size || !d.options.empty()) {
            throw config_error(
                "from_description: " + detail::layer_path_text(path) +
                ": expected a sequential of " + std::to_string(size) + " layers, got " +
                (d.kind == name ? "one of " + std::to_string(d.layers.size()) : d.to_string()));
        }
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return sequential(
                detail::build_from_description<Specs>(d.layers[I], detail::child_path(path, I))...);
        }
        (std::make_index_sequence<size>{});
    }

    /// The number of trainable values.
    std::size_t parameter_count() const {
        auto views = const_cast<sequential*>(this)->parameters();
        return count_values(std::span<const parameter_view<value_type>>(views));
    }

    /// A Keras-like table: each layer's index, type, output shape and parameter count
    /// (trainable and buffers of statistics), then the total, trainable and non-trainable
    /// counts, for the input shape the model was last built for.
    /// @throws std::logic_error if the model has not seen an input yet (use summary(shape)).
    std::string summary() const {
        if (!built_) {
            throw std::logic_error("sequential::summary: the model has no input shape yet; call "
                                   "build(shape) or summary(shape)");
        }
        return summary(*built_);
    }

    /// The summary table for input shape `input` (the batch extent is shown as "batch").
    /// @throws shape_error as output_shape().
    std::string summary(const shape<input_rank>& input) const {
        auto* self = const_cast<sequential*>(this);
        std::vector<std::string> rows;
        std::size_t total = 0;
        const auto pad = [](std::string s, std::size_t width) {
            s.resize(std::max(width, s.size() + 1), ' '); // a space even after a long name
            return s;
        };
        std::size_t trainable = 0;
        propagate(input, [&]<std::size_t I>(const auto& s) {
            auto& l = std::get<I>(self->layers_);
            std::size_t count = 0;
            for (const auto& p : l.parameters()) {
                count += p.value.size();
            }
            trainable += count;
            if constexpr (detail::has_buffers<layer_type<I>>) {
                count += detail::statistic_count(l.buffers());
            }
            total += count;
            rows.push_back(pad(std::to_string(I), 4) + pad(std::string(layer_type<I>::name), 16) +
                           pad(detail::format_batch_shape(s), 24) + detail::group_thousands(count));
        });
        std::string out = "Model: sequential, input " + detail::format_batch_shape(input) + "\n";
        const std::string rule(56, '-');
        out += rule + "\n" + pad("#", 4) + pad("Layer", 16) + pad("Output shape", 24) + "Params\n" +
               rule + "\n";
        for (const auto& r : rows) {
            out += r + "\n";
        }
        out += rule + "\nTotal params: " + detail::group_thousands(total) +
               "\nTrainable params: " + detail::group_thousands(trainable) +
               "\nNon-trainable params: " + detail::group_thousands(total - trainable) + "\n";
        return out;
    }

  private:
    /// The sentence for the first of backward's tensors (input, output, output gradients)
    /// that is not the model's type.
    template <class X, class Y, class DY>
    static constexpr void reject_backward() {
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::backward: the model takes", "input", input, X,
                                   value_type, input_rank);
        constexpr bool x_right = std::same_as<X, input_type>;
        using checked_y = std::conditional_t<x_right, Y, output_type>;
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::backward: the model gives", "output", output,
                                   checked_y, value_type, output_rank);
        using checked_dy =
            std::conditional_t<x_right && std::same_as<Y, output_type>, DY, output_type>;
        XTNN_DETAIL_REQUIRE_TENSOR("xtnn: sequential::backward: the model takes",
                                   "output gradients", output, checked_dy, value_type, output_rank);
    }

    /// The padding mask that reaches layer J: none, the one that entered (`entering`, when
    /// Masked), or the one a layer before J made.
    template <std::size_t J, bool Masked>
    const sequence_mask* mask_at(const sequence_mask* entering) const {
        static_assert(detail::mask_handled<J, layer_type<J>,
                                           detail::mask_reaches(mask_uses_, J, Masked)>::value);
        if constexpr (!detail::mask_reaches(mask_uses_, J, Masked)) {
            return nullptr;
        } else if constexpr (made_before(J)) {
            return &made_mask_;
        } else {
            return entering;
        }
    }

    static constexpr bool made_before(std::size_t j) {
        for (std::size_t i = 0; i < j; ++i) {
            if (mask_uses_[i] == xtnn::mask_use::makes) {
                return true;
            }
        }
        return false;
    }

    static constexpr std::size_t makers() {
        std::size_t n = 0;
        for (const auto u : mask_uses_) {
            n += u == xtnn::mask_use::makes ? 1 : 0;
        }
        return n;
    }

    /// Runs every layer, the last one into `*into` (a caller's buffer) or the model's own,
    /// with the padding mask `entering` when Masked.
    template <bool Masked>
    const output_type& run_forward(const input_type& x, mode m, output_type* into,
                                   const sequence_mask* entering) {
        static_assert(makers() <= 1, "xtnn: sequential: at most one layer of a sequential may "
                                     "make a padding mask (mask_use::makes)");
        const std::lock_guard held(mutex_.get());
        flush_denormals_guard guard;
        const detail::single_threaded_blas blas(splits_batch && num_threads() > 1);
        last_mode_ = mode::inference; // a forward that throws must not enable backward
        build(x.shape());
        if constexpr (Masked) {
            detail::require_mask_shape(*entering, x, "sequential::forward");
        }
        if (into != nullptr) {
            detail::require_shape(output_shape_, into->shape(), {name, "forward"},
                                  "output buffer shape mismatch");
        } else {
            resize_to(std::get<size - 1>(outputs_), output_shape_);
        }
        output_type& last = into != nullptr ? *into : std::get<size - 1>(outputs_);
        std::size_t whole = 0; // the layers before it ran by groups
        if constexpr (!Masked) {
            if (m == mode::inference && into == nullptr && group_ > 0) {
                forward_groups(x, last);
                whole = grouped_;
            }
        }
        for_each_layer([&]<std::size_t I>(auto& l) {
            if (I >= whole) {
                forward_layer<I, false, Masked>(l, x, last, m, entering);
            }
        });
        last_mode_ = m;
        own_output_ = into == nullptr;
        masked_ = Masked;
        return last;
    }

    /// Layer I's forward: on the whole batch (its output `last` for the last layer), or with
    /// Group on one group of samples (grouped inference, no masks).
    template <std::size_t I, bool Group, bool Masked = false>
    void forward_layer(layer_type<I>& l, const input_type& x, output_type& last, mode m,
                       const sequence_mask* entering) {
        auto& y = layer_output<I, Group>(last);
        const sequence_mask* mask = nullptr;
        if constexpr (!Group) {
            mask = mask_at<I, Masked>(entering);
        }
        if constexpr (fused_into<I>() != size) {
            if (fused_[fused_into<I>()]) {
                return; // the layer before runs it
            }
        }
        if constexpr (fusable_after<I>() > 0) {
            fused_[I] = m == mode::inference && forward_fused<I, Group>(l, x, last);
            if (fused_[I]) {
                return;
            }
        }
        if constexpr (absorbed<I>()) {
            return; // layer I + 1 runs it
        } else if constexpr (absorbs_previous<I>()) {
            layer_access::forward_after(l, std::get<I - 1>(layers_).function(),
                                        layer_input<I - 1, Group>(x), y, m);
            return;
        }
        if constexpr (mask_reader<layer_type<I>>) {
            if (mask != nullptr) {
                detail::require_mask_shape(*mask, layer_input<I, Group>(x),
                                           "sequential: layer " + std::to_string(I) + " (" +
                                               std::string(layer_type<I>::name) + ")");
            }
        }
        // build() checked every shape and sized every buffer: a layer_base layer runs its
        // maths directly.
        detail::forward_layer(l, layer_input<I, Group>(x), y, m, mask);
        if constexpr (mask_use_of<layer_type<I>> == xtnn::mask_use::makes) {
            l.make_mask(layer_input<I, Group>(x), made_mask_);
            detail::require_mask_shape(made_mask_, layer_input<I, Group>(x),
                                       "sequential: the mask layer " + std::to_string(I) + " made");
        }
    }

    /// Layer I's forward in inference with the fusable_after<I>() layers after it in its output
    /// pass, into the last one's output; false (nothing run) when layer I + 1 cannot state its
    /// map.
    template <std::size_t I, bool Group>
    bool forward_fused(layer_type<I>& l, const input_type& x, output_type& last) {
        constexpr std::size_t span = fusable_after<I>();
        const std::size_t channels = layer_output<I, Group>(last).shape()[1]; // sized by build
        const std::span<value_type> scale(epilogue_scale_.data(), channels);
        const std::span<value_type> shift(epilogue_shift_.data(), channels);
        if (!std::get<I + 1>(layers_).inference_affine(scale, shift)) {
            return false;
        }
        layer_access::forward_then(l, layer_input<I, Group>(x), layer_output<I + span, Group>(last),
                                   channel_epilogue<value_type>{scale, shift, span == 2});
        return true;
    }

    /// Layer I's input: the model's (x, or layer I - 1's output), or with Group the group's.
    template <std::size_t I, bool Group>
    const auto& layer_input(const input_type& x) const {
        if constexpr (!Group) {
            return input_of<I>(x);
        } else if constexpr (I == 0) {
            return group_input_;
        } else {
            return std::get<I - 1>(group_outputs_);
        }
    }

    /// Layer I's output buffer: the model's (`last` for the last layer), or the group's.
    template <std::size_t I, bool Group>
    auto& layer_output(output_type& last) {
        if constexpr (Group) {
            return std::get<I>(group_outputs_);
        } else {
            return output_of<I>(last);
        }
    }

    /// Runs layers [0, grouped_) on groups of group_ samples of x (the last group padded with
    /// zeros), each group's last output copied into that layer's whole-batch buffer.
    void forward_groups(const input_type& x, output_type& last) {
        const std::size_t batch = x.shape()[0];
        const std::size_t each = x.size() / batch;
        for (std::size_t first = 0; first < batch; first += group_) {
            const std::size_t n = std::min(group_, batch - first);
            std::copy_n(x.data() + first * each, n * each, group_input_.data());
            std::fill(group_input_.data() + n * each, group_input_.data() + group_input_.size(),
                      value_type(0));
            for_each_layer([&]<std::size_t I>(auto& l) {
                if (I >= grouped_) {
                    return;
                }
                forward_layer<I, true>(l, x, last, mode::inference, nullptr);
                if (I + 1 == grouped_) {
                    const auto& from = std::get<I>(group_outputs_);
                    auto& to = output_of<I>(last);
                    const std::size_t size_each = from.size() / group_;
                    std::copy_n(from.data(), n * size_each, to.data() + first * size_each);
                }
            });
        }
    }

    /// Moves the end of the grouped layers back out of fused layers: a pair where a layer runs
    /// an activation before it, and a layer that runs the ones after it in its output pass
    /// with them, stay on one side.
    void settle_groups() {
        while (grouped_ > 0 &&
               (absorbed_[grouped_ - 1] || (grouped_ < size && joined_[grouped_]))) {
            --grouped_;
        }
    }

    /// The leading layers that may run by groups in inference (independent samples, no
    /// masks made or read), and the group size for `input` (0: whole batches), with the
    /// groups' buffers sized.
    void size_groups(const shape<input_rank>& input) {
        grouped_ = 0;
        group_ = 0;
        bool going = true;
        for_each_layer([&]<std::size_t I>(const auto& l) {
            going = going && mask_uses_[I] != xtnn::mask_use::makes &&
                    !mask_reader<layer_type<I>> && independent_samples(l);
            grouped_ += going ? 1 : 0;
        });
        settle_groups();
        const std::size_t batch = input[0];
        if (grouped_ == 0 || batch < 2 || group_request_ == 1) {
            return;
        }
        // Values per sample of the input and of the layers' outputs up to each layer.
        constexpr std::size_t budget = std::size_t{1} << 18; // values: 1 MiB of floats
        std::array<std::size_t, size> values{};
        std::size_t total = detail::values_per_sample(input), in = total, spills = 0;
        propagate(input, [&]<std::size_t I>(const auto& s) {
            if (I < grouped_ && !absorbed<I>()) {
                const std::size_t out = detail::values_per_sample(s);
                total += out;
                spills = (in + out) * batch > budget ? I + 1 : spills;
                in = out;
            }
            values[I] = total;
        });
        if (group_request_ == 0) {
            // Groups end after the last layer whose input and output for the whole batch
            // would not fit in the cache: the layers after it (a ResNet's deep layers, small
            // planes of many channels) run the whole batch, each weight serving every sample
            // while it is in the cache.
            grouped_ = spills;
            settle_groups();
            if (grouped_ == 0) {
                return;
            }
        }
        const std::size_t group = group_request_ != 0
                                      ? group_request_
                                      : std::max<std::size_t>(1, budget / values[grouped_ - 1]);
        if (group >= batch) {
            return;
        }
        // As many groups as that takes, as even as they can be (less padding in the last).
        const std::size_t groups = (batch + group - 1) / group;
        group_ = (batch + groups - 1) / groups;
        auto s = input;
        s[0] = group_;
        resize_to(group_input_, s);
        propagate(s, [&]<std::size_t I>(const auto& out) {
            if (I < grouped_ && !absorbed<I>()) {
                resize_to(std::get<I>(group_outputs_), out);
            }
        });
    }

    /// Back-propagates `dy` given the last output `*y` (a caller's buffer; null: the model's
    /// own), the input gradient into `*dx` (a caller's) or, with `input_gradient`, the model's;
    /// with the padding mask `entering` when Masked.
    template <bool Masked>
    void run_backward(const input_type& x, const output_type& dy, bool input_gradient,
                      const output_type* y, input_type* dx, const sequence_mask* entering) {
        const std::lock_guard held(mutex_.get());
        moved_.require_live("sequential::backward");
        if (!built_ || *built_ != x.shape() || last_mode_ != mode::training ||
            (y == nullptr && !own_output_) || masked_ != Masked) {
            throw std::logic_error("sequential::backward: call forward(x, mode::training) with "
                                   "this input first; got input shape " +
                                   format_shape(x.shape()));
        }
        if (y != nullptr) {
            detail::require_shape(output_shape_, y->shape(), {name, "backward"},
                                  "output shape mismatch");
        }
        detail::require_shape(output_shape_, dy.shape(), {name, "backward"},
                              "output gradient shape mismatch");
        if (dx == nullptr && input_gradient) {
            dx = &input_gradient_;
        }
        if (dx != nullptr) {
            resize_to(*dx, x.shape());
        }
        flush_denormals_guard guard;
        const detail::single_threaded_blas blas(splits_batch && num_threads() > 1);
        const output_type& last = y != nullptr ? *y : std::get<size - 1>(outputs_);
        if constexpr (Masked) {
            detail::require_mask_shape(*entering, x, "sequential::backward");
        }
        backward_layers<Masked>(x, last, dy, dx, entering, std::make_index_sequence<size>{});
    }

    /// Resizes `t` to `s` unless it has that shape (then nothing is allocated).
    template <class Tensor, class Shape>
    static void resize_to(Tensor& t, const Shape& s) {
        if (!std::equal(t.shape().begin(), t.shape().end(), s.begin(), s.end())) {
            t.resize(s);
        }
    }

    /// Layer I's output buffer: the model's, or `last` for the last layer.
    template <std::size_t I, class Last>
    auto& output_of(Last& last) {
        if constexpr (I + 1 == size) {
            return last;
        } else {
            return std::get<I>(outputs_);
        }
    }

    template <class... Bound>
    static layers_type make_layers(detail::type_list<Bound...>, Specs&&... specs) {
        return layers_type(make_bound_layer<Bound>(std::move(specs))...);
    }

    template <std::size_t... I>
    static constexpr void check_links(std::index_sequence<I...>) {
        static_assert(
            (detail::link_to_layer<I + 1, layer_type<I>, layer_type<I + 1>>::value && ...));
    }

    /// Calls f.template operator()<I>(layer I) for every layer, in order.
    template <class F>
    void for_each_layer(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f.template operator()<I>(std::get<I>(layers_)), ...);
        }
        (std::make_index_sequence<size>{});
    }

    /// Walks the shapes through every layer, calling on_layer.template operator()<I>(shape)
    /// with each output shape; a layer's shape_error is rethrown naming the layer.
    template <class F>
    shape<output_rank> propagate(const shape<input_rank>& input, F&& on_layer) const {
        return propagate_from<0>(input, on_layer);
    }

    template <std::size_t J, class Shape, class F>
    auto propagate_from(const Shape& in, F& on_layer) const {
        const auto out = [&] {
            try {
                return std::get<J>(layers_).output_shape(in);
            } catch (const shape_error& e) {
                throw shape_error("sequential: layer " + std::to_string(J) + " (" +
                                  std::string(layer_type<J>::name) + ") rejects its input " +
                                  format_shape(in) + ": " + e.what());
            }
        }();
        on_layer.template operator()<J>(out);
        if constexpr (J + 1 < size) {
            return propagate_from<J + 1>(out, on_layer);
        } else {
            return out;
        }
    }

    template <std::size_t I>
    const auto& input_of(const input_type& x) const {
        if constexpr (I == 0) {
            return x;
        } else {
            return std::get<I - 1>(outputs_);
        }
    }

    template <bool Masked, std::size_t... I>
    void backward_layers(const input_type& x, const output_type& last, const output_type& dy,
                         input_type* dx, const sequence_mask* entering, std::index_sequence<I...>) {
        // Last layer first: layer J reads d(loss)/d(out J) and writes d(loss)/d(out J-1).
        (backward_layer<size - 1 - I, Masked>(x, last, dy, dx, entering), ...);
    }

    template <std::size_t J, bool Masked>
    void backward_layer(const input_type& x, const output_type& last, const output_type& dy,
                        input_type* dx, const sequence_mask* entering) {
        const auto& out_gradient = [&]() -> const auto& {
            if constexpr (J + 1 == size) {
                return dy;
            } else {
                return std::get<J>(gradients_);
            }
        }
        ();
        using in_type = typename layer_type<J>::input_type;
        in_type* in_gradient = nullptr;
        if constexpr (J == 0) {
            in_gradient = dx;
        } else {
            in_gradient = &std::get<J - 1>(gradients_);
        }
        auto& l = std::get<J>(layers_);
        const auto& y = [&]() -> const auto& {
            if constexpr (J + 1 == size) {
                return last;
            } else {
                return std::get<J>(outputs_);
            }
        }
        ();
        if constexpr (absorbed<J>()) {
            // layer J + 1 wrote d(loss)/d(input of J) through both
        } else if constexpr (absorbs_previous<J>()) {
            using before_type = typename layer_type<J - 1>::input_type;
            before_type* before_gradient = nullptr;
            if constexpr (J == 1) {
                before_gradient = dx;
            } else {
                before_gradient = &std::get<J - 2>(gradients_);
            }
            (void)mask_at<J, Masked>(entering);
            layer_access::backward_after(l, std::get<J - 1>(layers_).function(), input_of<J - 1>(x),
                                         y, out_gradient, before_gradient);
        } else {
            detail::backward_layer(l, input_of<J>(x), y, out_gradient, in_gradient,
                                   mask_at<J, Masked>(entering));
        }
    }

    layers_type layers_;
    outputs_type outputs_;
    outputs_type gradients_;    // entry I: d(loss)/d(output of layer I); the last one is unused
    input_type input_gradient_; // sized when first asked for
    input_type batch_buffer_;   // predict's gathered batches (see batch_buffer())
    std::optional<shape<input_rank>> built_;
    input_type group_input_;           // grouped inference: one group of the input
    outputs_type group_outputs_;       // and of the grouped layers' outputs
    std::size_t grouped_ = 0;          // the leading layers that may run by groups
    std::size_t group_ = 0;            // samples per group for the built shape (0: whole batches)
    std::size_t group_request_ = 0;    // set_inference_group (0: automatic)
    std::size_t training_request_ = 0; // set_training_group (0: automatic)
    shape<output_rank> output_shape_{};
    bool own_output_ = true;  // the last forward wrote the model's own output buffer
    bool masked_ = false;     // the last forward had a padding mask
    sequence_mask made_mask_; // the mask a layer made in the last forward
    mode last_mode_ = mode::inference;
    std::array<bool, size> fused_{}; // layer I ran the fusable_after<I>() after it (last forward)
    std::vector<value_type> epilogue_scale_, epilogue_shift_; // their per-channel map
    detail::moved_flag moved_;  // set in a model moved from: it has no layers left to run
    detail::model_mutex mutex_; // held by every call that uses the buffers (see lock())
};

} // namespace xtnn
