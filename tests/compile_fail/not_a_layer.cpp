// Must not compile: an int is neither a layer, an activation nor a spec.
#include <xtnn/xtnn.hpp>

int main() {
    xtnn::sequential model{xtnn::dense{4, 2}, 3};
    (void)model;
}
