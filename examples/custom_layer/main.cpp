// Extending xtnn: a custom activation and a custom layer with parameters, used in a sequential
// model and verified with the public gradient checker. docs/extending.md walks through it.
#include <cmath>
#include <iostream>
#include <span>
#include <string_view>
#include <vector>

#include <xtnn/xtnn.hpp>

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
// A learned per-feature scale and shift: y[b, j] = x[b, j] * gamma[j] + beta[j].
// Backward: dgamma[j] = Σ_b dy[b, j] x[b, j], dbeta[j] = Σ_b dy[b, j], dx = dy * gamma.
template <std::floating_point T = float>
class scale_shift : public xtnn::layer_base<scale_shift<T>, T, 2, 2> {
  public:
    static constexpr std::string_view name = "scale_shift";

    explicit scale_shift(std::size_t features)
        : gamma_(xt::ones<T>({features})), beta_(xt::zeros<T>({features})),
          dgamma_(xt::zeros<T>({features})), dbeta_(xt::zeros<T>({features})) {}

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

    xtnn::tensor<T, 1> gamma_, beta_, dgamma_, dbeta_;
};
static_assert(xtnn::check_layer<scale_shift<float>>());
// [layer]

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
    return result.passed ? 0 : 1;
}
