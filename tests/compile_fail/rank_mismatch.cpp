// Must not compile: a rank-4 layer feeds a dense layer without a flatten.
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::activation_layer<xtnn::relu, float, 4>{}, xtnn::dense{784, 10}};
    (void)model;
}
