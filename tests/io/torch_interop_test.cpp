// With PyTorch installed: weights saved by xtnn give PyTorch's nn.Sequential the same outputs,
// and PyTorch's state dict (saved with numpy) gives xtnn the same outputs.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <string>
#include <unistd.h>
#include <utility>
#include <variant>
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

// Checks `ours` against the numbers PyTorch printed, value by value, within `relative`.
void require_close(const std::vector<float>& ours, const std::string& printed,
                   double relative = 1e-5) {
    const auto theirs = xtnn::test::parse_numbers<float>(printed);
    REQUIRE(theirs.size() == ours.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
        INFO("value " << i << " of " << ours.size() << ": " << std::setprecision(9) << ours[i]);
        CHECK(ours[i] == Approx(theirs[i]).epsilon(relative).margin(1e-6));
    }
}

template <class Tensor>
std::vector<float> values(const Tensor& t) {
    return std::vector<float>(t.begin(), t.end());
}

// Checks xtnn's outputs on inputs() against the values PyTorch printed.
template <class Model>
void require_same_outputs(Model& model, const std::string& printed) {
    require_close(values(model.forward(inputs())), printed);
}

// The lines a script printed.
std::vector<std::string> lines_of(const std::string& out) {
    std::vector<std::string> lines;
    for (std::size_t at = 0, next; (next = out.find('\n', at)) != std::string::npos;
         at = next + 1) {
        lines.push_back(out.substr(at, next - at));
    }
    return lines;
}

// Defines R, the Residual module of residual.hpp's documentation, and mk(projection, *layers).
const std::string torch_residual =
    "exec('class R(torch.nn.Sequential):\\n def forward(self, x):\\n  y = x\\n"
    "  for l in self.children():\\n   if l is not self.projection: y = l(y)\\n"
    "  return (x if self.projection is None else self.projection(x)) + y\\n"
    "def mk(p, *layers):\\n r = R(*layers)\\n r.projection = p\\n return r'); ";

// Three Adam steps (learning rate 0.01) of cross-entropy on x and t in the current mode, then
// prints the state dict (parameters and buffers) in the order of the sorted names.
const std::string torch_adam_steps =
    "opt = torch.optim.Adam(m.parameters(), lr=0.01); "
    "[(opt.zero_grad(), torch.nn.functional.cross_entropy(m(x), t).backward(), opt.step()) "
    "for _ in range(3)]; s = m.state_dict(); "
    "print(' '.join(repr(float(v)) for k in sorted(s) for v in s[k].flatten())); ";

// The same three steps in xtnn, in training mode.
template <class Model, class X>
void adam_steps(Model& model, const X& x, const xtnn::tensor<std::int64_t, 1>& labels) {
    auto params = model.parameters();
    xtnn::adam adam({.learning_rate = 0.01});
    xtnn::tensor<float, 2> dy;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
        model.backward(x, dy);
        adam.step(params);
    }
}

// Every parameter and buffer as floats, in the order of the sorted names: PyTorch's sorted
// state dict.
template <class Model>
std::vector<float> sorted_state(Model& model) {
    std::vector<std::pair<std::string, std::vector<float>>> state;
    for (const auto& p : model.parameters()) {
        state.emplace_back(p.name, values(p.value));
    }
    for (const auto& b : model.buffers()) {
        std::visit([&](auto v) { state.emplace_back(b.name, values(v)); }, b.value);
    }
    std::sort(state.begin(), state.end());
    std::vector<float> all;
    for (const auto& entry : state) {
        all.insert(all.end(), entry.second.begin(), entry.second.end());
    }
    return all;
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
    const auto lines = lines_of(xtnn::test::run_python(
        "import numpy as np, torch; " + torch_residual +
        "L = torch.nn.Linear; m = torch.nn.Sequential(L(4, 8), torch.nn.ReLU(), "
        "mk(None, L(8, 8), torch.nn.Tanh(), L(8, 8)), mk(L(8, 6), L(8, 6), torch.nn.ReLU()), "
        "L(6, 3)); m.load_state_dict({k: torch.from_numpy(v) for k, v in np.load('" +
        path.string() +
        "').items()}); x = torch.tensor([[0.1, -0.2, 0.3, 0.4], [1.0, 0.5, -0.5, 2.0]]); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "t = torch.tensor([0, 2]); " +
        torch_adam_steps));
    fs::remove(path);
    REQUIRE(lines.size() == 2);
    require_same_outputs(model, lines[0]);
    adam_steps(model, inputs(), {0, 2});
    require_close(sorted_state(model), lines[1]);
}

TEST_CASE("torch interop: batch norm matches PyTorch's in training, running statistics and "
          "inference",
          "[io][torch][batch_norm]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_d.npz");
    // No bias before a batch norm (the norm removes it: its gradient is 0 up to rounding, which
    // Adam would amplify differently on each side), as PyTorch's models do.
    xtnn::sequential model{xtnn::batch_norm_layer<float, 4>(xtnn::batch_norm2d{3}),
                           xtnn::relu{},
                           xtnn::flatten{},
                           xtnn::dense({.in = 12, .out = 6, .bias = false}),
                           xtnn::batch_norm1d{6},
                           xtnn::relu{},
                           xtnn::dense{6, 2}};
    model.initialize(5);
    model.layer<0>().weight() = {0.5f, 1.5f, -1.0f}; // not PyTorch's initial values
    model.layer<0>().bias() = {0.1f, -0.2f, 0.3f};
    xtnn::save_weights(model, path);
    // A batch of 8: with 2, batch norm over (batch, features) gives ±1 whatever the input, and
    // the gradients before it vanish up to rounding.
    xtnn::tensor<float, 4> x(xtnn::shape<4>{8, 3, 2, 2});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>((i * 37) % 96) / 29.0f - 1.0f;
    }
    // PyTorch: the training-mode outputs, three Adam steps and the state (running statistics
    // and batch counts included), then the inference-mode outputs.
    const auto lines = lines_of(xtnn::test::run_python(
        "import numpy as np, torch; m = torch.nn.Sequential(torch.nn.BatchNorm2d(3), "
        "torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12, 6, bias=False), "
        "torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 2)); m.load_state_dict({k: "
        "torch.from_numpy(v) for k, v in np.load('" +
        path.string() +
        "').items()}); m.train(); x = torch.from_numpy((np.arange(96) * 37 % "
        "96).astype(np.float32).reshape(8, 3, 2, 2) / np.float32(29) - np.float32(1)); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "t = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1]); " +
        torch_adam_steps +
        "m.eval(); print(' '.join(repr(float(v)) for v in m(x).detach().flatten()))"));
    fs::remove(path);
    REQUIRE(lines.size() == 3);
    require_close(values(model.forward(x, xtnn::mode::training)), lines[0]);
    adam_steps(model, x, {0, 1, 1, 0, 1, 0, 0, 1});
    require_close(sorted_state(model), lines[1]);
    CHECK(model.layer<4>().num_batches_tracked() == 4); // the first forward, then three steps
    // Computed from weights that agree within 1e-5: outputs within twice that.
    require_close(values(model.forward(x)), lines[2], 2e-5);
}

TEST_CASE("torch interop: a convnet with batch norm and a residual block matches PyTorch's",
          "[io][torch][conv2d]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_e.npz");
    xtnn::sequential model{
        xtnn::conv2d<float>({.in_channels = 1, .out_channels = 4, .padding = 1, .bias = false}),
        xtnn::batch_norm2d{4},
        xtnn::relu{},
        xtnn::residual{xtnn::sequential{
            xtnn::conv2d<float>({.in_channels = 4, .out_channels = 4, .padding = "same"}),
            xtnn::tanh{}}},
        xtnn::conv2d<float>({.in_channels = 4,
                             .out_channels = 3,
                             .kernel_size = {3, 2},
                             .stride = 2,
                             .dilation = {1, 2}}),
        xtnn::flatten{},
        xtnn::dense{3 * 3 * 2, 2}};
    model.initialize(8);
    xtnn::save_weights(model, path);
    xtnn::tensor<float, 4> x(xtnn::shape<4>{6, 1, 7, 6});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>((i * 53) % 252) / 126.0f - 1.0f;
    }
    const auto lines = lines_of(xtnn::test::run_python(
        "import numpy as np, torch; " + torch_residual +
        "C = torch.nn.Conv2d; m = torch.nn.Sequential(C(1, 4, 3, padding=1, bias=False), "
        "torch.nn.BatchNorm2d(4), torch.nn.ReLU(), mk(None, C(4, 4, 3, padding='same'), "
        "torch.nn.Tanh()), C(4, 3, (3, 2), stride=2, dilation=(1, 2)), torch.nn.Flatten(), "
        "torch.nn.Linear(18, 2)); m.load_state_dict({k: torch.from_numpy(v) for k, v in "
        "np.load('" +
        path.string() +
        "').items()}); x = torch.from_numpy((np.arange(252) * 53 % 252).astype(np.float32)"
        ".reshape(6, 1, 7, 6) / np.float32(126) - np.float32(1)); m.eval(); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); m.train(); "
        "t = torch.tensor([0, 1, 1, 0, 1, 0]); " +
        torch_adam_steps));
    fs::remove(path);
    REQUIRE(lines.size() == 2);
    require_close(values(model.forward(x)), lines[0]);
    adam_steps(model, x, {0, 1, 1, 0, 1, 0});
    require_close(sorted_state(model), lines[1]);
}

TEST_CASE("torch interop: max, average and global pooling match PyTorch's, forward and backward",
          "[io][torch][pooling]") {
    if (!xtnn::test::python_ready("torch, numpy", "python3-torch")) {
        return;
    }
    const fs::path path =
        fs::temp_directory_path() / ("xtnn_torch_" + std::to_string(::getpid()) + "_f.npz");
    xtnn::sequential model{
        xtnn::conv2d<float>({.in_channels = 1, .out_channels = 4, .padding = 1}),
        xtnn::max_pool2d{.kernel_size = 3, .stride = 2, .padding = 1},
        xtnn::relu{},
        xtnn::conv2d<float>({.in_channels = 4, .out_channels = 4, .padding = "same"}),
        xtnn::avg_pool2d{.kernel_size = 3, .stride = 1, .padding = 1, .count_include_pad = false},
        xtnn::global_avg_pool2d{},
        xtnn::dense{4, 2}};
    model.initialize(9);
    xtnn::save_weights(model, path);
    xtnn::tensor<float, 4> x(xtnn::shape<4>{4, 1, 7, 9});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>((i * 29) % 252) / 126.0f - 1.0f;
    }
    // global_avg_pool2d is AdaptiveAvgPool2d(1) and Flatten in PyTorch: its dense is module 7.
    const auto lines = lines_of(xtnn::test::run_python(
        "import numpy as np, torch; C = torch.nn.Conv2d; m = torch.nn.Sequential(C(1, 4, 3, "
        "padding=1), torch.nn.MaxPool2d(3, 2, 1), torch.nn.ReLU(), C(4, 4, 3, padding='same'), "
        "torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False), torch.nn.AdaptiveAvgPool2d(1), "
        "torch.nn.Flatten(), torch.nn.Linear(4, 2)); m.load_state_dict({k.replace('6.', '7.') : "
        "torch.from_numpy(v) for k, v in np.load('" +
        path.string() +
        "').items()}); x = torch.from_numpy((np.arange(252) * 29 % 252).astype(np.float32)"
        ".reshape(4, 1, 7, 9) / np.float32(126) - np.float32(1)); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "t = torch.tensor([0, 1, 1, 0]); " +
        torch_adam_steps));
    fs::remove(path);
    REQUIRE(lines.size() == 2);
    require_close(values(model.forward(x)), lines[0]);
    adam_steps(model, x, {0, 1, 1, 0});
    require_close(sorted_state(model), lines[1]);
}
