/// @file
/// residual: a skip connection around any layer or model, y = x + f(x) (or projection(x) + f(x)).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtnn/core/concepts.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/layer_base.hpp>
#include <xtnn/core/mask.hpp>
#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/visit.hpp>

namespace xtnn {

namespace detail {
/// The projection of a residual without one: x itself.
struct no_projection {};
} // namespace detail

/// A residual block: `y = x + f(x)`, where f is any layer or model whose output has the
/// input's shape (ResNet's identity shortcut); with a projection p (a layer from the input to
/// f's output, such as a dense or a 1×1 convolution), `y = p(x) + f(x)`.
///
/// f's parameters and buffers keep f's own names (a residual around a sequential gives
/// "2.0.weight", "2.2.bias" in a model); the projection's are prefixed "projection."
/// ("2.projection.weight"). That is the state dict of this PyTorch module:
/// @code{.py}
/// class Residual(torch.nn.Sequential):
///     def __init__(self, *layers, projection=None):
///         super().__init__(*layers)
///         self.projection = projection
///     def forward(self, x):
///         y = x
///         for layer in self.children():
///             if layer is not self.projection:
///                 y = layer(y)
///         return (x if self.projection is None else self.projection(x)) + y
/// @endcode
///
/// Forward writes f(x) into a buffer the block owns (sized once per input shape), then y in
/// one pass; backward runs f's backward, which writes dx, and adds the shortcut's gradient
/// (dy, or the projection's input gradient) to it.
/// @code
/// xtnn::sequential model{xtnn::dense{784, 64}, xtnn::relu{},
///                        xtnn::residual{xtnn::sequential{xtnn::dense{64, 64}, xtnn::relu{},
///                                                        xtnn::dense{64, 64}}},
///                        xtnn::relu{}, xtnn::dense{64, 10}};
/// xtnn::residual widen{xtnn::sequential{xtnn::dense{64, 128}, xtnn::relu{}},
///                      xtnn::dense{64, 128}};   // with a projection
/// @endcode
/// @tparam Block the layer or model f. @tparam Projection the shortcut's layer, or none.
/// @ingroup layers
template <layer Block, class Projection = detail::no_projection>
class residual : public layer_base<residual<Block, Projection>, typename Block::value_type,
                                   Block::input_rank, Block::output_rank> {
    static constexpr bool projected = !std::same_as<Projection, detail::no_projection>;
    using T = typename Block::value_type;
    using x_type = typename Block::input_type;
    using y_type = typename Block::output_type;

  public:
    static constexpr std::string_view name = "residual"; ///< In summaries.
    /// Whether f or the projection splits its batch over xtnn's threads.
    static constexpr bool splits_batch = splits_batch_v<Block> || splits_batch_v<Projection>;
    /// A padding mask passes through when f (and the projection) pass it, and reaches them
    /// when they read it (attention in a transformer block); other blocks take none.
    static constexpr xtnn::mask_use mask_use = [] {
        constexpr auto b = mask_use_of<Block>;
        constexpr auto p = projected ? mask_use_of<Projection> : xtnn::mask_use::passes;
        const auto step = [](xtnn::mask_use u) {
            return u == xtnn::mask_use::passes || u == xtnn::mask_use::reads;
        };
        if (b == xtnn::mask_use::passes && p == xtnn::mask_use::passes) {
            return xtnn::mask_use::passes;
        }
        return step(b) && step(p) ? xtnn::mask_use::reads : xtnn::mask_use::none;
    }();

    static_assert(projected || std::same_as<x_type, y_type>,
                  "xtnn: residual: the block's output type differs from its input type, so x "
                  "cannot be added to f(x); give a projection from the input to f's output, "
                  "e.g. xtnn::residual{block, xtnn::dense{in, out}}");

    /// `y = x + block(x)`.
    explicit residual(Block block) requires(!projected) : block_(std::move(block)) {}

    /// `y = projection(x) + block(x)`.
    residual(Block block, Projection projection) requires projected
        : block_(std::move(block)),
          projection_(std::move(projection)) {
        static_assert(layer<Projection>, "xtnn: residual: the projection must be a layer");
        static_assert(std::same_as<typename Projection::input_type, x_type> &&
                          std::same_as<typename Projection::output_type, y_type>,
                      "xtnn: residual: the projection must take the block's input type and "
                      "give the block's output type");
    }

    /// f.
    Block& block() { return block_; }
    /// f.
    const Block& block() const { return block_; }
    /// The shortcut's layer.
    Projection& projection() requires projected { return projection_; }

    /// Calls `f("", block)`, then `f("projection", projection)`: the container protocol
    /// (visit()); the block's names keep the residual's prefix.
    template <class F>
    void visit_children(F&& f) {
        f(std::string_view(), block_);
        if constexpr (projected) {
            f(std::string_view("projection"), projection_);
        }
    }
    /// The same, const.
    template <class F>
    void visit_children(F&& f) const {
        f(std::string_view(), block_);
        if constexpr (projected) {
            f(std::string_view("projection"), projection_);
        }
    }

    /// `residual(f)` or `residual(f, projection)`: the block's description (and the
    /// projection's) as its layers 0 (and 1).
    layer_description describe() const { return describe_container(*this); }

    /// The residual that `d` describes: its block from `d.layers[0]` and its projection from
    /// `d.layers[1]` (see xtnn::from_description()).
    /// @throws config_error naming the first layer that differs.
    static residual from_description(const layer_description& d, const std::string& path) {
        const std::size_t layers = projected ? 2 : 1;
        if (d.kind != name || d.layers.size() != layers || !d.options.empty()) {
            throw config_error("from_description: " + detail::layer_path_text(path) +
                               ": expected a residual " +
                               (projected ? "with a projection" : "without a projection") +
                               ", got " + d.to_string());
        }
        Block block =
            detail::build_from_description<Block>(d.layers[0], detail::child_path(path, 0));
        if constexpr (projected) {
            return residual(std::move(block), detail::build_from_description<Projection>(
                                                  d.layers[1], detail::child_path(path, 1)));
        } else {
            return residual(std::move(block));
        }
    }

    /// Initializes f, then the projection, from `rng` (called by sequential::initialize).
    void initialize(random_engine& rng) {
        if constexpr (detail::initializable<Block>) {
            block_.initialize(rng);
        }
        if constexpr (projected && detail::initializable<Projection>) {
            projection_.initialize(rng);
        }
    }

    /// f's output shape, which must be the input's (or the projection's output shape).
    /// @throws shape_error if f rejects the input or the shapes of the two paths differ.
    shape<Block::output_rank> output_shape(const shape<Block::input_rank>& input) const {
        const auto out = block_.output_shape(input);
        if constexpr (projected) {
            const auto shortcut = projection_.output_shape(input);
            if (shortcut != out) {
                throw shape_error(detail::mismatch_message(
                    "residual", "the projection's output shape differs from the block's",
                    format_shape(out), format_shape(shortcut)));
            }
        } else if (out != input) {
            throw shape_error(detail::mismatch_message(
                "residual",
                "the block changes the shape of its input, so x cannot be added to f(x) (give "
                "a projection)",
                format_shape(input), format_shape(out)));
        }
        return out;
    }

    /// f's parameters under f's names, then the projection's as "projection.<name>".
    std::vector<parameter_view<T>> parameters() { return collect_parameters(*this); }

    /// f's buffers under f's names, then the projection's as "projection.<name>".
    std::vector<buffer_view<T>> buffers() { return collect_buffers(*this); }

  private:
    friend layer_access;

    /// `y = x + f(x)` (or `projection(x) + f(x)`); f and the projection get `mask` if they
    /// read masks. output_shape() checked f's and the projection's shapes for x.
    void compute_forward(const x_type& x, y_type& y, mode m, const sequence_mask* mask = nullptr) {
        const auto s = y.shape();
        if (f_.shape() != s) {
            f_.resize(s);
        }
        detail::forward_layer(block_, x, f_, m, mask);
        const T* shortcut = x.data();
        if constexpr (projected) {
            if (shortcut_.shape() != s) {
                shortcut_.resize(s);
            }
            detail::forward_layer(projection_, x, shortcut_, m, mask);
            shortcut = shortcut_.data();
        }
        const T* f = f_.data();
        T* out = y.data();
        for (std::size_t i = 0; i < y.size(); ++i) {
            out[i] = shortcut[i] + f[i];
        }
    }

    /// f's backward, then the shortcut's gradient added to dx when `dx` is not null.
    void compute_backward(const x_type& x, const y_type& y, const y_type& dy, x_type* dx,
                          const sequence_mask* mask = nullptr) {
        detail::require_shape(f_.shape(), y.shape(), {name, "backward"},
                              "output shape mismatch (no forward for this input)");
        detail::backward_layer(block_, x, f_, dy, dx, mask);
        if constexpr (projected) {
            if (dx == nullptr) {
                detail::backward_layer(projection_, x, shortcut_, dy, nullptr, mask);
                return;
            }
            if (shortcut_gradient_.shape() != x.shape()) {
                shortcut_gradient_.resize(x.shape());
            }
            detail::backward_layer(projection_, x, shortcut_, dy, &shortcut_gradient_, mask);
            add_to(*dx, shortcut_gradient_.data());
        } else if (dx != nullptr) {
            add_to(*dx, dy.data());
        }
    }

    static void add_to(x_type& dx, const T* g) {
        T* d = dx.data();
        for (std::size_t i = 0; i < dx.size(); ++i) {
            d[i] += g[i];
        }
    }

    Block block_;
    [[no_unique_address]] Projection projection_{};
    y_type f_;                 // f(x) of the last forward
    y_type shortcut_;          // projection(x) of the last forward
    x_type shortcut_gradient_; // the projection's input gradient
};

/// `xtnn::residual{block}` is a residual<Block> (y = x + f(x)).
template <class Block>
residual(Block) -> residual<Block>;
/// `xtnn::residual{block, projection}` is a residual<Block, Projection>.
template <class Block, class Projection>
residual(Block, Projection) -> residual<Block, Projection>;

} // namespace xtnn
