// Must not compile: a padding mask reaches a layer that does not handle masks (flatten).
#include <xtnn/xtnn.hpp>

struct pass_steps : xtnn::layer_base<pass_steps, float, 3, 3> {
    static constexpr std::string_view name = "pass_steps";
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::passes;
    xtnn::shape<3> output_shape(const xtnn::shape<3>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 3>& x, xtnn::tensor<float, 3>& y, xtnn::mode) {
        y = x;
    }
    void compute_backward(const xtnn::tensor<float, 3>&, const xtnn::tensor<float, 3>&,
                          const xtnn::tensor<float, 3>& dy, xtnn::tensor<float, 3>* dx) {
        if (dx != nullptr) {
            *dx = dy;
        }
    }
};

int main() {
    xtnn::sequential model{pass_steps{}, xtnn::flatten{}};
    xtnn::tensor<float, 3> x(xtnn::shape<3>{2, 4, 3});
    xtnn::sequence_mask mask(xtnn::shape<2>{2, 4});
    (void)model.forward(x, mask);
}
