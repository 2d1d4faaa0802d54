// Must not compile: batch_norm2d (images, rank 4) after a dense layer (rank 2).
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{784, 10}, xtnn::batch_norm2d{10}};
    (void)model;
}
