// Extending xtnn: a custom activation and a custom layer with parameters and options, used in a
// sequential model and verified with the public gradient checker; with the ONNX component, the
// layer's ONNX form. docs/extending.md and docs/interop.md walk through it.
#include <cmath>
#include <iostream>
#include <span>
#include <string_view>
#include <vector>

#include <xtnn/xtnn.hpp>
#ifdef XTNN_EXAMPLE_ONNX
#include <filesystem>

#include <xtnn/onnx.hpp>
#endif

// [activation]
// SiLU (swish): y = x σ(x); dy/dx = σ(x) (1 + x (1 - σ(x))).
// Written for any xtnn::real_value V, so activation_layer runs it on whole SIMD batches too:
// `V(1)` broadcasts, and `exp` is std::exp for scalars and xsimd's exp for batches.
struct silu {
    static constexpr std::string_view name = "silu";
    template <xtnn::real_value V>
    V value(V x) const {
        using std::exp;
        return x / (V(1) + exp(-x));
    }
    template <xtnn::real_value V>
    V derivative(V x, V /*y*/) const {
        using std::exp;
        const V s = V(1) / (V(1) + exp(-x));
        return s * (V(1) + x * (V(1) - s));
    }
};
static_assert(xtnn::check_activation<silu>());
// [activation]

// [layer]
// Its options, listed once: descriptions (weight files' records) follow from the list.
struct scale_shift_options {
    std::size_t features = 0;
    static constexpr auto fields() {
        return std::tuple{xtnn::field("features", &scale_shift_options::features)};
    }
};

// A learned per-feature scale and shift: y[b, j] = x[b, j] * gamma[j] + beta[j].
// Backward: dgamma[j] = Σ_b dy[b, j] x[b, j], dbeta[j] = Σ_b dy[b, j], dx = dy * gamma.
template <std::floating_point T = float>
class scale_shift : public xtnn::layer_base<scale_shift<T>, T, 2, 2> {
  public:
    static constexpr std::string_view name = "scale_shift";
    using options_type = scale_shift_options;

    explicit scale_shift(scale_shift_options options)
        : options_(options), gamma_(xt::ones<T>({options.features})),
          beta_(xt::zeros<T>({options.features})), dgamma_(xt::zeros<T>({options.features})),
          dbeta_(xt::zeros<T>({options.features})) {}
    explicit scale_shift(std::size_t features) : scale_shift(scale_shift_options{features}) {}

    // describe() and from_description() read and build these.
    const scale_shift_options& options() const { return options_; }

    xtnn::shape<2> output_shape(const xtnn::shape<2>& in) const {
        if (in[1] != gamma_.size()) {
            throw xtnn::shape_error(
                "scale_shift::forward: input shape mismatch; expected (batch, " +
                std::to_string(gamma_.size()) + "), got " + xtnn::format_shape(in));
        }
        return in;
    }

    std::vector<xtnn::parameter_view<T>> parameters() {
        return {{"weight",
                 std::span<T>(gamma_.data(), gamma_.size()),
                 std::span<T>(dgamma_.data(), dgamma_.size()),
                 {gamma_.size()}},
                {"bias",
                 std::span<T>(beta_.data(), beta_.size()),
                 std::span<T>(dbeta_.data(), dbeta_.size()),
                 {beta_.size()}}};
    }

    xtnn::tensor<T, 1>& gamma() { return gamma_; }

  private:
    friend xtnn::layer_access;

    // The shapes are checked: y has output_shape(x.shape()).
    void compute_forward(const xtnn::tensor<T, 2>& x, xtnn::tensor<T, 2>& y, xtnn::mode) const {
        const std::size_t n = gamma_.size();
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            for (std::size_t j = 0; j < n; ++j) {
                y(b, j) = x(b, j) * gamma_(j) + beta_(j);
            }
        }
    }

    // dy has y's shape, and *dx (when dx is not null) x's.
    void compute_backward(const xtnn::tensor<T, 2>& x, const xtnn::tensor<T, 2>&,
                          const xtnn::tensor<T, 2>& dy, xtnn::tensor<T, 2>* dx) {
        const std::size_t n = gamma_.size();
        dgamma_.fill(T(0));
        dbeta_.fill(T(0));
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            for (std::size_t j = 0; j < n; ++j) {
                dgamma_(j) += dy(b, j) * x(b, j);
                dbeta_(j) += dy(b, j);
                if (dx != nullptr) {
                    (*dx)(b, j) = dy(b, j) * gamma_(j);
                }
            }
        }
    }

    scale_shift_options options_;
    xtnn::tensor<T, 1> gamma_, beta_, dgamma_, dbeta_;
};
static_assert(xtnn::check_layer<scale_shift<float>>());
// [layer]

#ifdef XTNN_EXAMPLE_ONNX
// [onnx_form]
// silu in ONNX: Mul(x, Sigmoid(x)). An activation's form is an onnx_activation_form.
template <>
struct xtnn::onnx_activation_form<silu> {
    template <class T>
    static std::string emit(xtnn::onnx_writer<T>& w, const silu&, const std::string& prefix,
                            const std::string& x) {
        return w.node("Mul", prefix, {x, w.node("Sigmoid", prefix, {x})});
    }
    template <class T>
    static std::string match(xtnn::onnx_reader<T>& r, const silu&, const std::string& x,
                             const std::string& layer) {
        const std::string gate = r.take(r.require(x, {"Sigmoid"}, layer));
        const int mul = r.binary("Mul", x, gate);
        if (mul < 0) {
            throw r.error(layer + ": expected Mul of '" + x + "' and '" + gate + "'");
        }
        return r.take(mul);
    }
};

// scale_shift in ONNX: Mul by the weight, then Add of the bias (both broadcast over the batch).
template <class T>
struct xtnn::onnx_form<scale_shift<T>> {
    static std::string emit(xtnn::onnx_writer<T>& w, scale_shift<T>& layer,
                            const xtnn::onnx_place& at, const std::string& x) {
        const std::string scaled = w.node("Mul", at.prefix, {x, w.parameter(layer, at, "weight")});
        return w.node("Add", at.prefix, {scaled, w.parameter(layer, at, "bias")});
    }
    static std::string match(xtnn::onnx_reader<T>& r, scale_shift<T>& layer,
                             const xtnn::onnx_place& at, const std::string& x, std::size_t&) {
        const std::string text = xtnn::onnx_layer_text(layer, at);
        const int mul = r.require(x, {"Mul"}, text);
        r.stage(layer, at, "weight", r.constant(r.input(mul, 1), text), mul);
        const int add = r.require(r.take(mul), {"Add"}, text);
        r.stage(layer, at, "bias", r.constant(r.input(add, 1), text), add);
        return r.take(add);
    }
};
// [onnx_form]
#endif

int main() {
    // [use]
    xtnn::sequential model{xtnn::dense<double>{3, 4}, silu{}, scale_shift<double>{4},
                           xtnn::dense<double>{4, 2}};
    model.layer<2>().gamma() = {0.5, 1.5, -1.0, 2.0};
    xtnn::tensor<double, 2> x = {{0.1, -0.2, 0.3}, {0.5, 0.4, -0.6}};
    std::cout << model.summary({2, 3});
    const auto result = xtnn::check_gradients(model, x);
    std::cout << result.message() << "\n";
    // [use]

    // [describe]
    // The record a weight file keeps, and the same model built back from it.
    const auto description = xtnn::describe(model);
    std::cout << description.to_string() << "\n"; // sequential(…, scale_shift(features=4), …)
    auto rebuilt = xtnn::from_description<decltype(model)>(description);
    // [describe]
    bool same = xtnn::describe(rebuilt) == description;
#ifdef XTNN_EXAMPLE_ONNX
    // [onnx]
    const auto file = std::filesystem::temp_directory_path() / "xtnn_custom_layer.onnx";
    xtnn::save_onnx(model, file, {1, 3});
    xtnn::load_onnx(rebuilt, file);
    same = same && xtnn::predict(rebuilt, x) == xtnn::predict(model, x);
    std::filesystem::remove(file);
    // [onnx]
    std::cout << "onnx round trip: " << (same ? "same outputs" : "different outputs") << "\n";
#endif
    return result.passed && same ? 0 : 1;
}
