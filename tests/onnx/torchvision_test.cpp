// torchvision's real architectures, exported by PyTorch with its defaults, load into the
// same architectures written as xtnn types and compute what PyTorch computes.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

#include "onnx/torchvision_models.hpp"
#include "support/python.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;

namespace {

// The exports: each architecture freshly initialised (batch norms at their defaults, so the
// folded weights repeat and the exporter writes Identity nodes) and with random weights and
// statistics, at opsets 13 and 17; vgg11_bn (133 M parameters, half a gigabyte) once.
constexpr const char* export_script = R"(
import sys, numpy as np, torch, torchvision
out = sys.argv[1]
def randomize(m):
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for b in m.modules():
            if isinstance(b, torch.nn.BatchNorm2d):
                c = b.num_features
                b.running_mean.copy_(0.2 * torch.randn(c, generator=g))
                b.running_var.copy_(0.5 + torch.rand(c, generator=g))
                b.weight.copy_(0.5 + torch.rand(c, generator=g))
                b.bias.copy_(0.2 * torch.randn(c, generator=g))
cases = [(a, s, b, o, w) for a, s, b in (('resnet18', 64, 2), ('resnet50', 64, 2))
         for o in (13, 17) for w in ('fresh', 'random')]
cases += [('vgg11_bn', 224, 1, 17, 'fresh')]
for arch, size, batch, opset, weights in cases:
    torch.manual_seed(1)
    m = getattr(torchvision.models, arch)()
    if weights == 'random':
        randomize(m)
    m.eval()
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(3))
    name = out + '/' + arch + '_' + weights + '_' + str(opset)
    torch.onnx.export(m, x, name + '.onnx', opset_version=opset, input_names=['input'],
                      output_names=['output'], dynamic_axes={'input': {0: 'batch'}})
    x.numpy().tofile(name + '.input')
    with torch.no_grad():
        m(x).numpy().tofile(name + '.output')
)";

std::vector<float> read_floats(const fs::path& path) {
    std::vector<float> values(fs::file_size(path) / sizeof(float));
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
    REQUIRE(in.good());
    return values;
}

// Loads each export of `arch` into `make()`'s model and compares its outputs with PyTorch's
// within 1e-4 of the outputs' scale.
template <class Make>
void check_architecture(const fs::path& dir, const std::string& arch, Make make, std::size_t size) {
    for (const auto* name : {"fresh_13", "random_13", "fresh_17", "random_17"}) {
        const fs::path base = dir / (arch + "_" + name);
        if (!fs::exists(base.string() + ".onnx")) {
            continue; // vgg11_bn: one of the four
        }
        INFO(base.filename().string());
        auto model = make();
        xtnn::load_onnx(model, base.string() + ".onnx");
        const auto input = read_floats(base.string() + ".input");
        const auto expected = read_floats(base.string() + ".output");
        xtnn::tensor<float, 4> x(xtnn::shape<4>{input.size() / (3 * size * size), 3, size, size});
        std::copy(input.begin(), input.end(), x.begin());
        const auto y = xtnn::predict(model, x);
        REQUIRE(y.size() == expected.size());
        double scale = 0;
        for (const float v : expected) {
            scale = std::max(scale, double(std::abs(v)));
        }
        double worst = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            worst = std::max(worst, std::abs(double(y.data()[i]) - expected[i]));
        }
        INFO("largest difference " << worst << " for outputs up to " << scale);
        CHECK(worst <= 1e-4 * scale);
    }
}

} // namespace

TEST_CASE("load_onnx: torchvision's resnet18, resnet50 and vgg11_bn as PyTorch exports them",
          "[onnx][load][torch][torchvision]") {
    if (!xtnn::test::python_ready("torch, torchvision, onnx, numpy",
                                  "python3-torch, python3-torchvision, python3-onnx")) {
        return;
    }
    xtnn::test::scratch_directory dir;
    const fs::path script = dir.path / "export.py";
    std::ofstream(script) << export_script;
    xtnn::test::run_python("import runpy, sys; sys.argv = ['export', '" + dir.path.string() +
                           "']; runpy.run_path('" + script.string() + "')");

    check_architecture(
        dir.path, "resnet18", [] { return xtnn::test::torchvision::resnet18(); }, 64);
    check_architecture(
        dir.path, "resnet50", [] { return xtnn::test::torchvision::resnet50(); }, 64);
    check_architecture(
        dir.path, "vgg11_bn", [] { return xtnn::test::torchvision::vgg11_bn(); }, 224);
}
