// Must not compile: image layers (conv2d, max_pool2d) feed a dense layer without a flatten.
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::conv2d{1, 8, 3}, xtnn::relu{}, xtnn::max_pool2d{},
                           xtnn::dense{8 * 13 * 13, 10}};
    (void)model;
}
