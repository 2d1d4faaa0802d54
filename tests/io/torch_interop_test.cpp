// With PyTorch installed: weights saved by xtnn give PyTorch's nn.Sequential the same outputs,
// and PyTorch's state dict (saved with numpy) gives xtnn the same outputs.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

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

TEST_CASE("torch interop: residual blocks match PyTorch's, in inference and after Adam steps",
          "[io][torch][residual]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_c.npz");
    xtnn::sequential model{
        xtnn::dense{4, 8}, xtnn::relu{},
        xtnn::residual{xtnn::sequential{xtnn::dense{8, 8}, xtnn::tanh{}, xtnn::dense{8, 8}}},
        xtnn::residual{xtnn::sequential{xtnn::dense{8, 6}, xtnn::relu{}}, xtnn::dense{8, 6}},
        xtnn::dense{6, 3}};
    model.initialize(11);
    xtnn::save_weights(model, path);
    // The Residual module of residual.hpp's documentation, and the same model; then three Adam
    // steps on inputs() with labels (0, 2). Prints the outputs, then every parameter in the
    // order of the sorted names.
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; "
        "exec('class R(torch.nn.Sequential):\\n def forward(self, x):\\n  y = x\\n"
        "  for l in self.children():\\n   if l is not self.projection: y = l(y)\\n"
        "  return (x if self.projection is None else self.projection(x)) + y\\n"
        "def mk(p, *layers):\\n r = R(*layers)\\n r.projection = p\\n return r'); "
        "L = torch.nn.Linear; m = torch.nn.Sequential(L(4, 8), torch.nn.ReLU(), "
        "mk(None, L(8, 8), torch.nn.Tanh(), L(8, 8)), mk(L(8, 6), L(8, 6), torch.nn.ReLU()), "
        "L(6, 3)); m.load_state_dict({k: torch.from_numpy(v) for k, v in np.load('" +
        path.string() +
        "').items()}); x = torch.tensor([[0.1, -0.2, 0.3, 0.4], [1.0, 0.5, -0.5, 2.0]]); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "opt = torch.optim.Adam(m.parameters(), lr=0.01); t = torch.tensor([0, 2]); "
        "[(opt.zero_grad(), torch.nn.functional.cross_entropy(m(x), t).backward(), opt.step()) "
        "for _ in range(3)]; s = m.state_dict(); "
        "print(' '.join(repr(float(v)) for k in sorted(s) for v in s[k].flatten()))");
    fs::remove(path);
    const auto newline = out.find('\n');
    REQUIRE(newline != std::string::npos);
    require_same_outputs(model, out.substr(0, newline));

    auto params = model.parameters();
    xtnn::adam adam({.learning_rate = 0.01});
    const xtnn::tensor<std::int64_t, 1> labels = {0, 2};
    xtnn::tensor<float, 2> dy;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(inputs(), xtnn::mode::training);
        xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
        model.backward(inputs(), dy);
        adam.step(params);
    }
    std::sort(params.begin(), params.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    std::vector<float> ours;
    for (const auto& p : params) {
        ours.insert(ours.end(), p.value.begin(), p.value.end());
    }
    const auto theirs = xtnn::test::parse_numbers<float>(out.substr(newline + 1));
    REQUIRE(theirs.size() == ours.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
        CHECK(ours[i] == Approx(theirs[i]).epsilon(1e-5).margin(1e-6));
    }
}
