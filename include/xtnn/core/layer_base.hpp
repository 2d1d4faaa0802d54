/// @file
/// layer_base: what every built-in layer shares (its tensor types and the shape checks of
/// forward and backward), so that a layer holds its maths.
#pragma once

#include <concepts>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>

namespace xtnn {

template <class Derived, std::floating_point T, std::size_t InputRank, std::size_t OutputRank>
class layer_base;

/// Whether layer `l`, in inference, gives each sample an output that depends on that sample
/// alone, so that a model may run it on groups of samples (sequential's cache-sized groups):
/// a layer says so with `static constexpr bool independent_samples = true` or, when its
/// options decide, a member `bool independent_samples() const` (batch norm without running
/// statistics normalizes by the batch's); a container (visit_children) is when all its
/// children are; any other layer is not.
/// @ingroup concepts
template <class L>
bool independent_samples(const L& l) {
    if constexpr (requires {
                      { l.independent_samples() } -> std::same_as<bool>;
                  }) {
        return l.independent_samples();
    } else if constexpr (requires { requires L::independent_samples; }) {
        return true;
    } else if constexpr (requires { l.visit_children([](std::string_view, const auto&) {}); }) {
        bool all = true;
        l.visit_children([&all](std::string_view, const auto& child) {
            all = all && independent_samples(child);
        });
        return all;
    } else {
        (void)l;
        return false;
    }
}

/// Whether layer `l`, in training, computes each sample's output and input gradient from that
/// sample alone, and its parameter gradients as sums over the samples, so that a training step
/// may run on groups of samples whose parameter gradients are then added (sequential's
/// training groups, see sequential::training_group): a layer says so with `static constexpr
/// bool trains_by_samples = true`; a container (visit_children) is when all its children are;
/// any other layer is not (batch norm in training normalizes by the batch's statistics).
/// @ingroup concepts
template <class L>
bool trains_by_samples(const L& l) {
    if constexpr (requires { requires L::trains_by_samples; }) {
        (void)l;
        return true;
    } else if constexpr (requires { l.visit_children([](std::string_view, const auto&) {}); }) {
        bool all = true;
        l.visit_children(
            [&all](std::string_view, const auto& child) { all = all && trains_by_samples(child); });
        return all;
    } else {
        (void)l;
        return false;
    }
}

/// The door through which layer_base and sequential reach a layer's `compute_forward` and
/// `compute_backward`, which a layer keeps private: `friend xtnn::layer_access;`.
/// @ingroup concepts
struct layer_access {
    /// `l.compute_forward(x, y, m)`, without checks.
    template <class L, class X, class Y>
    static void forward(L& l, const X& x, Y& y, mode m) {
        l.compute_forward(x, y, m);
    }
    /// `l.compute_backward(x, y, dy, dx)`, without checks.
    template <class L, class X, class Y>
    static void backward(L& l, const X& x, const Y& y, const Y& dy, X* dx) {
        l.compute_backward(x, y, dy, dx);
    }
    /// `l.compute_forward_then(x, y, then)` of a layer that applies a channel_epilogue (see
    /// xtnn::takes_channel_epilogue), in inference.
    template <class L, class X, class Y, class E>
    static void forward_then(L& l, const X& x, Y& y, const E& then) {
        l.compute_forward_then(x, y, then);
    }
    /// `l.compute_forward(x, y, m, mask)` of a layer that reads padding masks.
    template <class L, class X, class Y, class Mask>
    static void forward(L& l, const X& x, Y& y, mode m, const Mask* mask) {
        l.compute_forward(x, y, m, mask);
    }
    /// `l.compute_backward(x, y, dy, dx, mask)` of a layer that reads padding masks.
    template <class L, class X, class Y, class Mask>
    static void backward(L& l, const X& x, const Y& y, const Y& dy, X* dx, const Mask* mask) {
        l.compute_backward(x, y, dy, dx, mask);
    }
    /// `l.compute_forward_after(a, x, y, m)` of a layer that absorbs the activation `a`
    /// before it (see xtnn::absorbs_activation): `x` is the activation's input.
    template <class L, class A, class X, class Y>
    static void forward_after(L& l, const A& a, const X& x, Y& y, mode m) {
        l.compute_forward_after(a, x, y, m);
    }
    /// `l.compute_backward_after(a, x, y, dy, dx)`: `x` is the activation's input and `*dx`
    /// d(loss)/dx through both.
    template <class L, class A, class X, class Y>
    static void backward_after(L& l, const A& a, const X& x, const Y& y, const Y& dy, X* dx) {
        l.compute_backward_after(a, x, y, dy, dx);
    }
};

/// The base of a layer: its scalar type, ranks and tensor types, and a forward and backward
/// that check every shape once and then run the layer's maths.
///
/// A layer derived from it (CRTP) writes what is its own: `name`, `output_shape` (which
/// rejects impossible inputs with shape_error), `parameters()` if it has any, and two private
/// functions,
/// reached through `friend xtnn::layer_access;`:
/// - `compute_forward(x, y, m)`: `y` already has `output_shape(x.shape())`;
/// - `compute_backward(x, y, dy, dx)`: `y` and `dy` have the output shape and `*dx`, when
///   `dx` is not null, has x's shape; it writes (not adds) every gradient.
///
/// forward() and backward() check exactly that for a caller that calls the layer by itself
/// (and size `*dx`); a sequential checks every layer's shapes once when it meets an input
/// shape, sizes every buffer, and then calls the compute functions directly.
///
/// @code
/// template <std::floating_point T>
/// class scale : public xtnn::layer_base<scale<T>, T, 2, 2> {
///   public:
///     static constexpr std::string_view name = "scale";
///     xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }
///
///   private:
///     friend xtnn::layer_access;
///     void compute_forward(const xtnn::tensor<T, 2>& x, xtnn::tensor<T, 2>& y, xtnn::mode);
///     void compute_backward(const xtnn::tensor<T, 2>& x, const xtnn::tensor<T, 2>& y,
///                           const xtnn::tensor<T, 2>& dy, xtnn::tensor<T, 2>* dx);
/// };
/// @endcode
///
/// @tparam Derived the layer.
/// @tparam T its scalar type.
/// @tparam InputRank, OutputRank the ranks of its input and output (the batch included).
/// @ingroup concepts
template <class Derived, std::floating_point T, std::size_t InputRank, std::size_t OutputRank>
class layer_base {
  public:
    using value_type = T;                                  ///< The scalar type.
    static constexpr std::size_t input_rank = InputRank;   ///< The input's rank.
    static constexpr std::size_t output_rank = OutputRank; ///< The output's rank.
    using input_type = tensor<T, InputRank>;               ///< The input tensor type.
    using output_type = tensor<T, OutputRank>;             ///< The output tensor type.
    using layer_base_type = layer_base;                    ///< This base, for detection.

    /// Runs the layer on `x` into `y`, which must have output_shape(x.shape()).
    /// @throws shape_error naming the layer if x's shape is impossible or y's is not the output's.
    void forward(const input_type& x, output_type& y, mode m = mode::inference) {
        check_output(x, y, "forward", "output buffer shape mismatch");
        layer_access::forward(self(), x, y, m);
    }

    /// Writes every parameter gradient and, when `dx` is not null, d(loss)/dx into `*dx`
    /// (resized to x's shape if it has another), given the forward's `x` and `y` and
    /// `dy` = d(loss)/dy.
    /// @throws shape_error naming the layer if y or dy is not the output shape for x.
    void backward(const input_type& x, const output_type& y, const output_type& dy,
                  input_type* dx) {
        check_output(x, y, "backward", "output shape mismatch");
        detail::require_shape(y.shape(), dy.shape(), {Derived::name, "backward"},
                              "output gradient shape mismatch");
        if (dx != nullptr && dx->shape() != x.shape()) {
            dx->resize(x.shape());
        }
        layer_access::backward(self(), x, y, dy, dx);
    }

    /// None: a layer with parameters declares its own parameters(), which hides this one.
    std::vector<parameter_view<T>> parameters() { return {}; }

  private:
    Derived& self() { return static_cast<Derived&>(*this); }

    void check_output(const input_type& x, const output_type& y, std::string_view function,
                      std::string_view what) const {
        const auto& layer = static_cast<const Derived&>(*this);
        detail::require_shape(layer.output_shape(x.shape()), y.shape(), {Derived::name, function},
                              what);
    }
};

namespace detail {

/// A layer derived from layer_base, whose compute functions a caller that checked the shapes
/// may call directly.
template <class L>
concept based_layer = requires {
    typename L::layer_base_type;
}
&&std::derived_from<L, typename L::layer_base_type>;

/// The lock of one model, which its calls (forward, backward, predict, fit, evaluate) hold while
/// they run, so that calls from several threads take turns instead of sharing its buffers. A
/// copy of a model has a lock of its own.
class model_mutex {
  public:
    model_mutex() = default;
    model_mutex(const model_mutex&) noexcept {}
    model_mutex& operator=(const model_mutex&) noexcept { return *this; }
    ~model_mutex() = default;
    /// The mutex (recursive: a call holding it may make calls that take it again).
    std::recursive_mutex& get() const { return mutex_; }

  private:
    mutable std::recursive_mutex mutex_;
};

/// Holds `model` for this thread while the result lives, if the model has a lock (a
/// sequential); nothing for a bare layer.
template <class Model>
auto hold(const Model& model) {
    if constexpr (requires { model.lock(); }) {
        return model.lock();
    } else {
        return 0;
    }
}

/// Whether the object holding it was moved from: moving sets the source's flag (a model moved
/// from has no layers left to run), copying and assigning carry the flag of the source.
class moved_flag {
  public:
    moved_flag() = default;
    moved_flag(const moved_flag&) = default;
    moved_flag& operator=(const moved_flag&) = default;
    moved_flag(moved_flag&& other) noexcept : moved_(other.moved_) { other.moved_ = true; }
    moved_flag& operator=(moved_flag&& other) noexcept {
        if (this != &other) {
            moved_ = other.moved_;
            other.moved_ = true;
        }
        return *this;
    }
    ~moved_flag() = default;

    /// Throws std::logic_error `where: this model was moved from …` if it was.
    void require_live(std::string_view where) const {
        if (moved_) {
            throw std::logic_error(std::string(where) +
                                   ": this model was moved from; use the model it was moved "
                                   "to, or assign a model to it first");
        }
    }

  private:
    bool moved_ = false;
};

} // namespace detail

} // namespace xtnn
