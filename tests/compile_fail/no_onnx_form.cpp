// Must not compile: save_onnx of a model with a layer whose type has no ONNX form.
#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

struct doubling : xtnn::layer_base<doubling, float, 2, 2> {
    static constexpr std::string_view name = "doubling";
    xtnn::shape<2> output_shape(const xtnn::shape<2>& input) const { return input; }

  private:
    friend xtnn::layer_access;
    void compute_forward(const xtnn::tensor<float, 2>& x, xtnn::tensor<float, 2>& y, xtnn::mode) {
        y = 2.0f * x;
    }
    void compute_backward(const xtnn::tensor<float, 2>&, const xtnn::tensor<float, 2>&,
                          const xtnn::tensor<float, 2>& dy, xtnn::tensor<float, 2>* dx) {
        if (dx != nullptr) {
            *dx = 2.0f * dy;
        }
    }
};

int main() {
    xtnn::sequential model{xtnn::dense{4, 2}, doubling{}};
    xtnn::save_onnx(model, "model.onnx", {1, 4});
}
