// Must not compile: an activation cannot start a model (it takes its types from the layer before).
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::relu{}, xtnn::dense{4, 2}};
    (void)model;
}
