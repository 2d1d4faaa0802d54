// Must not compile: a float layer feeds a double layer.
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense<float>{4, 8}, xtnn::relu{}, xtnn::dense<double>{8, 2}};
    (void)model;
}
