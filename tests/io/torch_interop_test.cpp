// With PyTorch installed: weights saved by xtnn give PyTorch's nn.Sequential the same outputs,
// and PyTorch's state dict (saved with numpy) gives xtnn the same outputs.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/python.hpp"

namespace fs = std::filesystem;

namespace {

// The same architecture on both sides: Linear(4, 8), ReLU, Linear(8, 3).
const char* torch_model = "torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), "
                          "torch.nn.Linear(8, 3))";

xtnn::tensor<float, 2> inputs() {
    return {{0.1f, -0.2f, 0.3f, 0.4f}, {1.0f, 0.5f, -0.5f, 2.0f}};
}

// Checks xtnn's outputs on inputs() against the values PyTorch printed.
template <class Model>
void require_same_outputs(Model& model, const std::string& printed) {
    const auto theirs = xtnn::test::parse_numbers<float>(printed);
    const auto ours = model.forward(inputs());
    REQUIRE(theirs.size() == ours.size());
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        CHECK(ours.data()[i] == Approx(theirs[i]).epsilon(1e-5).margin(1e-6));
    }
}

} // namespace

TEST_CASE("torch interop: xtnn's weights in PyTorch give the same outputs", "[io][torch]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_a.npz");
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    model.initialize(3);
    xtnn::save_weights(model, path);
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; m = " + std::string(torch_model) +
        "; m.load_state_dict({k: torch.from_numpy(v) for k, v in np.load('" + path.string() +
        "').items()}); x = torch.tensor([[0.1, -0.2, 0.3, 0.4], [1.0, 0.5, -0.5, 2.0]]); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten()))");
    fs::remove(path);
    require_same_outputs(model, out);
}

TEST_CASE("torch interop: PyTorch's state dict in xtnn gives the same outputs", "[io][torch]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_b.npz");
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; torch.manual_seed(0); m = " + std::string(torch_model) +
        "; np.savez('" + path.string() +
        "', **{k: v.detach().numpy() for k, v in m.state_dict().items()}); "
        "x = torch.tensor([[0.1, -0.2, 0.3, 0.4], [1.0, 0.5, -0.5, 2.0]]); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten()))");
    xtnn::sequential model{xtnn::dense{4, 8}, xtnn::relu{}, xtnn::dense{8, 3}};
    xtnn::load_weights(model, path);
    fs::remove(path);
    require_same_outputs(model, out);
}
