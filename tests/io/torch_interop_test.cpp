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
    // PyTorch: the training-mode outputs, three Adam steps, the state dict in sorted key order
    // (running statistics and batch counts included), then the inference-mode outputs.
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; m = torch.nn.Sequential(torch.nn.BatchNorm2d(3), "
        "torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12, 6, bias=False), "
        "torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 2)); m.load_state_dict({k: "
        "torch.from_numpy(v) for k, v in "
        "np.load('" +
        path.string() +
        "').items()}); m.train(); x = torch.from_numpy((np.arange(96) * 37 % 96).astype(np.float32)"
        ".reshape(8, 3, 2, 2) / np.float32(29) - np.float32(1)); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "opt = torch.optim.Adam(m.parameters(), lr=0.01); t = torch.tensor([0, 1, 1, 0, 1, 0, 0, "
        "1]); "
        "[(opt.zero_grad(), torch.nn.functional.cross_entropy(m(x), t).backward(), opt.step()) "
        "for _ in range(3)]; s = m.state_dict(); "
        "print(' '.join(repr(float(v)) for k in sorted(s) for v in s[k].flatten())); m.eval(); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten()))");
    fs::remove(path);
    std::vector<std::string> lines;
    for (std::size_t at = 0, next; (next = out.find('\n', at)) != std::string::npos;
         at = next + 1) {
        lines.push_back(out.substr(at, next - at));
    }
    REQUIRE(lines.size() == 3);
    const auto require_close = [](const std::vector<float>& ours, const std::string& printed,
                                  double relative = 1e-5) {
        const auto theirs = xtnn::test::parse_numbers<float>(printed);
        REQUIRE(theirs.size() == ours.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            INFO("value " << i << " of " << ours.size() << ": " << std::setprecision(9) << ours[i]);
            CHECK(ours[i] == Approx(theirs[i]).epsilon(relative).margin(1e-6));
        }
    };
    const auto values = [](const auto& t) { return std::vector<float>(t.begin(), t.end()); };

    require_close(values(model.forward(x, xtnn::mode::training)), lines[0]);
    auto params = model.parameters();
    xtnn::adam adam({.learning_rate = 0.01});
    const xtnn::tensor<std::int64_t, 1> labels = {0, 1, 1, 0, 1, 0, 0, 1};
    xtnn::tensor<float, 2> dy;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
        model.backward(x, dy);
        adam.step(params);
    }
    std::vector<std::pair<std::string, std::vector<float>>> state;
    for (const auto& p : params) {
        state.emplace_back(p.name, std::vector<float>(p.value.begin(), p.value.end()));
    }
    for (const auto& b : model.buffers()) {
        std::visit(
            [&](auto v) {
                std::vector<float> converted;
                for (const auto value : v) {
                    converted.push_back(static_cast<float>(value));
                }
                state.emplace_back(b.name, converted);
            },
            b.value);
    }
    std::sort(state.begin(), state.end());
    std::vector<float> ours;
    for (const auto& [name, v] : state) {
        ours.insert(ours.end(), v.begin(), v.end());
    }
    require_close(ours, lines[1]);
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
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; "
        "exec('class R(torch.nn.Sequential):\\n def forward(self, x):\\n  y = x\\n"
        "  for l in self.children():\\n   if l is not self.projection: y = l(y)\\n"
        "  return (x if self.projection is None else self.projection(x)) + y\\n"
        "def mk(p, *layers):\\n r = R(*layers)\\n r.projection = p\\n return r'); "
        "C = torch.nn.Conv2d; m = torch.nn.Sequential(C(1, 4, 3, padding=1, bias=False), "
        "torch.nn.BatchNorm2d(4), torch.nn.ReLU(), mk(None, C(4, 4, 3, padding='same'), "
        "torch.nn.Tanh()), C(4, 3, (3, 2), stride=2, dilation=(1, 2)), torch.nn.Flatten(), "
        "torch.nn.Linear(18, 2)); m.load_state_dict({k: torch.from_numpy(v) for k, v in "
        "np.load('" +
        path.string() +
        "').items()}); x = torch.from_numpy((np.arange(252) * 53 % 252).astype(np.float32)"
        ".reshape(6, 1, 7, 6) / np.float32(126) - np.float32(1)); m.eval(); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); m.train(); "
        "opt = torch.optim.Adam(m.parameters(), lr=0.01); t = torch.tensor([0, 1, 1, 0, 1, 0]); "
        "[(opt.zero_grad(), torch.nn.functional.cross_entropy(m(x), t).backward(), opt.step()) "
        "for _ in range(3)]; s = m.state_dict(); "
        "print(' '.join(repr(float(v)) for k in sorted(s) for v in s[k].flatten()))");
    fs::remove(path);
    const auto newline = out.find('\n');
    REQUIRE(newline != std::string::npos);
    const auto check = [](const std::vector<float>& ours, const std::string& printed) {
        const auto theirs = xtnn::test::parse_numbers<float>(printed);
        REQUIRE(theirs.size() == ours.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            INFO("value " << i << " of " << ours.size());
            CHECK(ours[i] == Approx(theirs[i]).epsilon(1e-5).margin(1e-6));
        }
    };
    const auto& inferred = model.forward(x);
    check(std::vector<float>(inferred.begin(), inferred.end()), out.substr(0, newline));

    auto params = model.parameters();
    xtnn::adam adam({.learning_rate = 0.01});
    const xtnn::tensor<std::int64_t, 1> labels = {0, 1, 1, 0, 1, 0};
    xtnn::tensor<float, 2> dy;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
        model.backward(x, dy);
        adam.step(params);
    }
    std::vector<std::pair<std::string, std::vector<float>>> state;
    for (const auto& p : params) {
        state.emplace_back(p.name, std::vector<float>(p.value.begin(), p.value.end()));
    }
    for (const auto& b : model.buffers()) {
        std::visit(
            [&](auto v) {
                std::vector<float> converted;
                for (const auto value : v) {
                    converted.push_back(static_cast<float>(value));
                }
                state.emplace_back(b.name, converted);
            },
            b.value);
    }
    std::sort(state.begin(), state.end());
    std::vector<float> ours;
    for (const auto& [name, v] : state) {
        ours.insert(ours.end(), v.begin(), v.end());
    }
    check(ours, out.substr(newline + 1));
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
    const std::string out = xtnn::test::run_python(
        "import numpy as np, torch; C = torch.nn.Conv2d; m = torch.nn.Sequential(C(1, 4, 3, "
        "padding=1), torch.nn.MaxPool2d(3, 2, 1), torch.nn.ReLU(), C(4, 4, 3, padding='same'), "
        "torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False), torch.nn.AdaptiveAvgPool2d(1), "
        "torch.nn.Flatten(), torch.nn.Linear(4, 2)); m.load_state_dict({k.replace('6.', '7.') : "
        "torch.from_numpy(v) for k, v in np.load('" +
        path.string() +
        "').items()}); x = torch.from_numpy((np.arange(252) * 29 % 252).astype(np.float32)"
        ".reshape(4, 1, 7, 9) / np.float32(126) - np.float32(1)); "
        "print(' '.join(repr(float(v)) for v in m(x).detach().flatten())); "
        "opt = torch.optim.Adam(m.parameters(), lr=0.01); t = torch.tensor([0, 1, 1, 0]); "
        "[(opt.zero_grad(), torch.nn.functional.cross_entropy(m(x), t).backward(), opt.step()) "
        "for _ in range(3)]; s = m.state_dict(); "
        "print(' '.join(repr(float(v)) for k in sorted(s) for v in s[k].flatten()))");
    fs::remove(path);
    const auto newline = out.find('\n');
    REQUIRE(newline != std::string::npos);
    const auto check = [](const std::vector<float>& ours, const std::string& printed) {
        const auto theirs = xtnn::test::parse_numbers<float>(printed);
        REQUIRE(theirs.size() == ours.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            INFO("value " << i << " of " << ours.size());
            CHECK(ours[i] == Approx(theirs[i]).epsilon(1e-5).margin(1e-6));
        }
    };
    const auto& inferred = model.forward(x);
    check(std::vector<float>(inferred.begin(), inferred.end()), out.substr(0, newline));
    auto params = model.parameters();
    xtnn::adam adam({.learning_rate = 0.01});
    const xtnn::tensor<std::int64_t, 1> labels = {0, 1, 1, 0};
    xtnn::tensor<float, 2> dy;
    for (int step = 0; step < 3; ++step) {
        const auto& logits = model.forward(x, xtnn::mode::training);
        xtnn::softmax_cross_entropy{}.value_and_gradient(logits, labels, dy);
        model.backward(x, dy);
        adam.step(params);
    }
    std::sort(params.begin(), params.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    std::vector<float> ours;
    for (const auto& p : params) {
        ours.insert(ours.end(), p.value.begin(), p.value.end());
    }
    check(ours, out.substr(newline + 1));
}
