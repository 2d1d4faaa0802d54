// Must not compile: max_pool2d (images, rank 4) after a dense layer (rank 2).
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{784, 10}, xtnn::max_pool2d{2}};
    (void)model;
}
