#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

#include "models.hpp"
#include "support/helpers.hpp"
#include "support/python.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;
using xtnn::test::scratch_directory;

namespace {

// Every parameter and buffer of two models, equal bit for bit.
template <class Model>
void require_same_state(Model& a, Model& b) {
    auto pa = a.parameters();
    auto pb = b.parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].name);
        REQUIRE(std::equal(pa[i].value.begin(), pa[i].value.end(), pb[i].value.begin()));
    }
    if constexpr (requires { a.buffers(); }) {
        auto ba = a.buffers();
        auto bb = b.buffers();
        for (std::size_t i = 0; i < ba.size(); ++i) {
            INFO(ba[i].name);
            if (ba[i].name.ends_with("num_batches_tracked")) {
                continue; // not in ONNX
            }
            const auto& va = std::get<std::span<float>>(ba[i].value);
            const auto& vb = std::get<std::span<float>>(bb[i].value);
            REQUIRE(std::equal(va.begin(), va.end(), vb.begin()));
        }
    }
}

// save_onnx, then load_onnx into a model initialized otherwise: the same state and outputs.
template <class Make, class X>
void round_trip(Make make, const X& x, const fs::path& dir) {
    auto saved = make();
    saved.initialize(1);
    xtnn::test::warm_up_statistics(saved, x);
    xtnn::save_onnx(saved, dir / "m.onnx", x.shape());
    auto loaded = make();
    loaded.initialize(2);
    xtnn::load_onnx(loaded, dir / "m.onnx");
    require_same_state(saved, loaded);
    REQUIRE(xtnn::test::equal(xtnn::predict(saved, x), xtnn::predict(loaded, x)));
}

// Runs a Python script file with Debian's Python; returns what it printed.
std::string run_script(const fs::path& dir, const std::string& script) {
    const fs::path file = dir / "script.py";
    std::ofstream(file) << script;
    return xtnn::test::run_python("exec(open('" + file.string() + "').read())");
}

template <std::size_t N>
xtnn::tensor<float, N> read_raw(const fs::path& path, const xtnn::shape<N>& shape) {
    xtnn::tensor<float, N> x(shape);
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
    REQUIRE(in.good());
    return x;
}

} // namespace

TEST_CASE("load_onnx: what save_onnx wrote loads back bit for bit, for every layer kind",
          "[onnx][load]") {
    scratch_directory dir;
    round_trip(xtnn::test::onnx_mlp, xtnn::test::random_tensor<float>(xtnn::shape<2>{3, 784}, 1),
               dir.path);
    round_trip(xtnn::test::onnx_convnet,
               xtnn::test::random_tensor<float>(xtnn::shape<4>{2, 1, 28, 28}, 2), dir.path);
    round_trip(xtnn::test::onnx_residual,
               xtnn::test::random_tensor<float>(xtnn::shape<2>{4, 20}, 3), dir.path);
    round_trip(xtnn::test::onnx_images,
               xtnn::test::random_tensor<float>(xtnn::shape<4>{2, 2, 9, 8}, 4), dir.path);
    round_trip(xtnn::test::onnx_features, xtnn::test::random_tensor<float>(xtnn::shape<2>{5, 6}, 5),
               dir.path);
}

TEST_CASE("load_onnx: PyTorch's exports give PyTorch's outputs (batch norm folded into Conv)",
          "[onnx][load][torch]") {
    if (!xtnn::test::python_ready("torch, onnx, numpy", "python3-torch, python3-onnx")) {
        return;
    }
    scratch_directory dir;
    const std::string d = dir.path.string() + "/";
    // Four nn.Sequential models, exported with torch.onnx.export's defaults (eval mode: batch
    // norm folded into the Conv before it), their inputs and PyTorch's outputs.
    const std::string out = run_script(dir.path, R"(
import numpy as np, torch
nn = torch.nn
torch.manual_seed(0)
class Residual(nn.Module):
    def __init__(self, f, p=None):
        super().__init__()
        self.f, self.p = f, p
    def forward(self, x):
        return (x if self.p is None else self.p(x)) + self.f(x)
models = {
    'mlp': (nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)),
            (3, 784)),
    'convnet': (nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Dropout(0.5), nn.Linear(400, 10)), (2, 1, 28, 28)),
    'residual': (nn.Sequential(nn.Linear(20, 16), nn.ReLU(),
                               Residual(nn.Sequential(nn.Linear(16, 16), nn.ReLU(),
                                                      nn.Linear(16, 16))), nn.ReLU(),
                               Residual(nn.Sequential(nn.Linear(16, 8), nn.Tanh()),
                                        nn.Linear(16, 8)),
                               nn.Linear(8, 4)), (4, 20)),
    'nobias': (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                             nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3),
                             nn.GELU(), nn.Linear(3, 3), nn.LogSoftmax(1)), (2, 1, 6, 6)),
}
rng = np.random.default_rng(0)
for name, (m, shape) in models.items():
    x = torch.from_numpy(rng.random(shape, dtype=np.float32))
    m.train()
    for _ in range(3):
        m(x)  # running statistics other than 0 and 1
    m.eval()
    torch.onnx.export(m, x, ')" + d + R"(' + name + '.onnx', input_names=['input'],
                      output_names=['output'], dynamic_axes={'input': {0: 'batch'}})
    x.numpy().tofile(')" + d + R"(' + name + '.input')
    print(' '.join(repr(float(v)) for v in m(x).detach().flatten()))
)");
    const auto lines = [&] {
        std::vector<std::vector<float>> l;
        std::istringstream in(out);
        std::string line;
        while (std::getline(in, line)) {
            l.push_back(xtnn::test::parse_numbers<float>(line));
        }
        return l;
    }();
    REQUIRE(lines.size() == 4);

    auto mlp = xtnn::test::onnx_mlp();
    xtnn::load_onnx(mlp, dir.path / "mlp.onnx");
    xtnn::test::require_close(
        xtnn::predict(mlp, read_raw(dir.path / "mlp.input", xtnn::shape<2>{3, 784})), lines[0]);

    auto convnet = xtnn::test::onnx_convnet();
    xtnn::load_onnx(convnet, dir.path / "convnet.onnx");
    xtnn::test::require_close(
        xtnn::predict(convnet, read_raw(dir.path / "convnet.input", xtnn::shape<4>{2, 1, 28, 28})),
        lines[1]);

    auto residual = xtnn::test::onnx_residual();
    xtnn::load_onnx(residual, dir.path / "residual.onnx");
    xtnn::test::require_close(
        xtnn::predict(residual, read_raw(dir.path / "residual.input", xtnn::shape<2>{4, 20})),
        lines[2]);

    // A convolution without bias before batch norm: the folded Conv's bias becomes the batch
    // norm's shift.
    xtnn::sequential nobias{
        xtnn::conv2d<float>{{.in_channels = 1, .out_channels = 4, .padding = 1, .bias = false}},
        xtnn::batch_norm2d{4},
        xtnn::relu{},
        xtnn::global_avg_pool2d{},
        xtnn::dense{4, 3},
        xtnn::gelu{},
        xtnn::dense{3, 3},
        xtnn::log_softmax{}};
    xtnn::load_onnx(nobias, dir.path / "nobias.onnx");
    xtnn::test::require_close(
        xtnn::predict(nobias, read_raw(dir.path / "nobias.input", xtnn::shape<4>{2, 1, 6, 6})),
        lines[3]);
}

TEST_CASE("load_onnx: bad files and other models are refused, naming the node and both sides",
          "[onnx][load]") {
    scratch_directory dir;
    auto saved = xtnn::test::onnx_mlp();
    saved.initialize(1);
    const fs::path file = dir.path / "mlp.onnx";
    xtnn::save_onnx(saved, file, {1, 784});

    auto model = xtnn::test::onnx_mlp();
    model.initialize(2);
    const auto before = model.layer<0>().weight();
    const auto unchanged = [&] { REQUIRE(xtnn::test::equal(model.layer<0>().weight(), before)); };

    // Truncated, not ONNX at all, missing.
    std::string bytes(fs::file_size(file), '\0');
    std::ifstream(file, std::ios::binary).read(bytes.data(), static_cast<long>(bytes.size()));
    std::ofstream(dir.path / "half.onnx", std::ios::binary)
        .write(bytes.data(), static_cast<long>(bytes.size() / 2));
    REQUIRE_THROWS_AS(xtnn::load_onnx(model, dir.path / "half.onnx"), xtnn::io_error);
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "half.onnx"),
                        Catch::Contains("half.onnx") &&
                            Catch::Contains("not an ONNX model (truncated, corrupt"));
    REQUIRE_THROWS_WITH(xtnn::read_onnx_architecture(dir.path / "half.onnx"),
                        Catch::Contains("half.onnx") &&
                            Catch::Contains("not an ONNX model (truncated, corrupt"));
    std::ofstream(dir.path / "text.onnx") << "hello, this is not a model";
    REQUIRE_THROWS_AS(xtnn::load_onnx(model, dir.path / "text.onnx"), xtnn::io_error);
    REQUIRE_THROWS_AS(xtnn::read_onnx_architecture(dir.path / "text.onnx"), xtnn::io_error);
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "absent.onnx"),
                        Catch::Contains("absent.onnx"));
    unchanged();

    // Another architecture with the same shapes: the record names it; without the record, the
    // node does.
    xtnn::sequential tanh_model{xtnn::dense{784, 128}, xtnn::tanh{}, xtnn::dropout{0.2},
                                xtnn::dense{128, 10}};
    REQUIRE_THROWS_WITH(xtnn::load_onnx(tanh_model, file),
                        Catch::Contains("layer 1 differs: the file has relu, the model has tanh"));
    REQUIRE_THROWS_WITH(
        xtnn::load_onnx(tanh_model, file, {.check_architecture = false}),
        Catch::Contains("layer 1 (tanh): expected a Tanh node reading '0.Gemm'; found node "
                        "'1.Relu' (Relu)"));

    // Other shapes.
    xtnn::sequential narrow{xtnn::dense{784, 64}, xtnn::relu{}, xtnn::dropout{0.2},
                            xtnn::dense{64, 10}};
    REQUIRE_THROWS_WITH(xtnn::load_onnx(narrow, file, {.check_architecture = false}),
                        Catch::Contains("node '0.Gemm' (Gemm): layer 0 (dense(in=784, out=64, "
                                        "bias=true)): shape of '0.weight' mismatch; expected "
                                        "(64, 784), got (128, 784)"));
    // A model that ends before the graph does.
    xtnn::sequential shorter{xtnn::dense{784, 128}, xtnn::relu{}};
    REQUIRE_THROWS_WITH(xtnn::load_onnx(shorter, file, {.check_architecture = false}),
                        Catch::Contains("node '3.Gemm' (Gemm) is not part of the model's layers"));

    if (!xtnn::test::python_ready("onnx, numpy", "python3-onnx")) {
        return;
    }
    // Edited files: an initializer of another type, a missing weight, an operator xtnn lacks.
    const std::string edit =
        "import onnx, onnx.helper, onnx.numpy_helper, numpy as np; m = onnx.load('" +
        file.string() + "'); g = m.graph; ";
    xtnn::test::run_python(edit +
                           "t = [i for i in g.initializer if i.name == '3.bias'][0]; "
                           "t.CopyFrom(onnx.numpy_helper.from_array(np.zeros(10, np.int32), "
                           "'3.bias')); onnx.save(m, '" +
                           (dir.path / "int32.onnx").string() + "')");
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "int32.onnx"),
                        Catch::Contains("tensor '3.bias': element type 6 (ONNX's code); expected "
                                        "float, double or int64"));
    xtnn::test::run_python(edit +
                           "g.initializer.remove([i for i in g.initializer if i.name == "
                           "'0.weight'][0]); onnx.save(m, '" +
                           (dir.path / "missing.onnx").string() + "')");
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "missing.onnx"),
                        Catch::Contains("'0.weight' is not a constant of the graph"));
    xtnn::test::run_python(edit + "g.node[1].op_type = 'HardSwish'; onnx.save(m, '" +
                           (dir.path / "op.onnx").string() + "')");
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "op.onnx"),
                        Catch::Contains("layer 1 (relu): expected a Relu node reading '0.Gemm'; "
                                        "found node '1.Relu' (HardSwish)"));
    xtnn::test::run_python(edit +
                           "g.node[0].attribute.append(onnx.helper.make_attribute('transA', "
                           "1)); onnx.save(m, '" +
                           (dir.path / "attribute.onnx").string() + "')");
    REQUIRE_THROWS_WITH(xtnn::load_onnx(model, dir.path / "attribute.onnx"),
                        Catch::Contains("node '0.Gemm' (Gemm): layer 0") &&
                            Catch::Contains("transA mismatch; expected 0, got 1"));
    unchanged();
}

TEST_CASE("load_onnx: a node without its output is refused by name, never read past",
          "[onnx][load]") {
    if (!xtnn::test::python_ready("onnx, numpy", "python3-onnx")) {
        return;
    }
    // The fuzzer's find (tests/fuzz/regressions/onnx/conv-without-output.onnx): a Conv that
    // a batch norm may fold into, with its output deleted.
    scratch_directory dir;
    auto saved = xtnn::test::onnx_convnet();
    saved.initialize(1);
    const fs::path file = dir.path / "convnet.onnx";
    xtnn::save_onnx(saved, file, {1, 1, 28, 28});
    xtnn::test::run_python("import onnx; m = onnx.load('" + file.string() +
                           "'); n = [n for n in m.graph.node if n.op_type == 'Conv'][0]; "
                           "del n.output[:]; onnx.save(m, '" +
                           (dir.path / "cut.onnx").string() + "')");
    auto model = xtnn::test::onnx_convnet();
    REQUIRE_THROWS_AS(xtnn::load_onnx(model, dir.path / "cut.onnx"), xtnn::io_error);
    REQUIRE_THROWS_WITH(
        xtnn::load_onnx(model, dir.path / "cut.onnx", {.check_architecture = false}),
        Catch::Contains("cut.onnx") && Catch::Contains("(Conv) has no output"));
}

TEST_CASE("load_onnx: PyTorch's default exports of pooling, flattening and conv + batch norm, "
          "folded and not, at opsets 13 and 17",
          "[onnx][load][torch]") {
    if (!xtnn::test::python_ready("torch, onnx, numpy", "python3-torch, python3-onnx")) {
        return;
    }
    scratch_directory dir;
    const std::string d = dir.path.string() + "/";
    // Each model exported with torch.onnx.export's defaults (and the batch-norm model also with
    // TrainingMode.PRESERVE and no constant folding, which keeps BatchNormalization), its input
    // and PyTorch's output.
    run_script(dir.path, R"(
import numpy as np, torch
nn = torch.nn
torch.manual_seed(0)
class Flatten1(nn.Module):
    def forward(self, x): return torch.flatten(x, 1)
class View(nn.Module):
    def forward(self, x): return x.view(x.size(0), -1)
models = {
    'pools': (nn.Sequential(nn.Conv2d(1, 4, 3), nn.AvgPool2d(2),
                            nn.AvgPool2d(3, stride=1, padding=1),
                            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                            nn.MaxPool2d(3, stride=1, padding=1), nn.Flatten(),
                            nn.Linear(100, 5)), (2, 1, 12, 12)),
    'norm': (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                           nn.ReLU(), nn.AdaptiveAvgPool2d(1), Flatten1(), nn.Linear(4, 3)),
             (2, 1, 6, 6)),
    'view': (nn.Sequential(nn.Conv2d(1, 2, 3), View(), nn.Linear(200, 3)), (2, 1, 12, 12)),
}
rng = np.random.default_rng(0)
for name, (m, shape) in models.items():
    x = torch.from_numpy(rng.random(shape, dtype=np.float32))
    m.train()
    for _ in range(3):
        m(x)  # running statistics other than 0 and 1
    m.eval()
    x.numpy().tofile(')" + d +
                             R"(' + name + '.input')
    with torch.no_grad():
        m(x).numpy().tofile(')" +
                             d + R"(' + name + '.output')
    for opset in (13, 17):
        modes = {'': {}}
        if name == 'norm':
            modes['_kept'] = {'training': torch.onnx.TrainingMode.PRESERVE,
                              'do_constant_folding': False}
        for suffix, options in modes.items():
            torch.onnx.export(m, x, ')" +
                             d + R"(' + name + suffix + '_' + str(opset) + '.onnx',
                              input_names=['input'], output_names=['output'],
                              dynamic_axes={'input': {0: 'batch'}}, opset_version=opset,
                              **options)
)");
    const auto check = [&]<class Model, std::size_t N>(Model& model, const std::string& name,
                                                       const std::string& file,
                                                       const xtnn::shape<N>& shape) {
        INFO(file);
        xtnn::load_onnx(model, dir.path / file);
        const auto y = xtnn::predict(model, read_raw(dir.path / (name + ".input"), shape));
        const std::vector<float> got(y.begin(), y.end());
        std::ifstream in(dir.path / (name + ".output"), std::ios::binary);
        std::vector<float> theirs(got.size());
        in.read(reinterpret_cast<char*>(theirs.data()),
                static_cast<std::streamsize>(theirs.size() * sizeof(float)));
        REQUIRE(in.good());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CHECK(got[i] == Approx(theirs[i]).epsilon(1e-5).margin(1e-6));
        }
    };
    for (const std::string opset : {"13", "17"}) {
        xtnn::sequential pools{
            xtnn::conv2d{1, 4, 3},
            xtnn::avg_pool2d{2},
            xtnn::avg_pool2d{.kernel_size = 3, .stride = 1, .padding = 1},
            xtnn::avg_pool2d{
                .kernel_size = 3, .stride = 1, .padding = 1, .count_include_pad = false},
            xtnn::max_pool2d{.kernel_size = 3, .stride = 1, .padding = 1},
            xtnn::flatten{},
            xtnn::dense{100, 5}};
        check(pools, "pools", "pools_" + opset + ".onnx", xtnn::shape<4>{2, 1, 12, 12});
        for (const std::string suffix : {"", "_kept"}) {
            xtnn::sequential norm{
                xtnn::conv2d<float>(
                    {.in_channels = 1, .out_channels = 4, .padding = 1, .bias = false}),
                xtnn::batch_norm2d{4}, xtnn::relu{}, xtnn::global_avg_pool2d{}, xtnn::dense{4, 3}};
            check(norm, "norm", "norm" + suffix + "_" + opset + ".onnx",
                  xtnn::shape<4>{2, 1, 6, 6});
        }
        xtnn::sequential view{xtnn::conv2d{1, 2, 3}, xtnn::flatten{}, xtnn::dense{200, 3}};
        check(view, "view", "view_" + opset + ".onnx", xtnn::shape<4>{2, 1, 12, 12});
    }
}

TEST_CASE("read_onnx_architecture: reads the metadata without the graph, and hostile records are "
          "refused while they are parsed",
          "[onnx][load]") {
    scratch_directory dir;
    auto saved = xtnn::test::onnx_mlp();
    const fs::path file = dir.path / "mlp.onnx";
    xtnn::save_onnx(saved, file, {1, 784});
    const auto architecture = xtnn::read_onnx_architecture(file);
    REQUIRE(architecture.has_value());
    CHECK(architecture->model == xtnn::describe(saved));

    // The same file with its record replaced by one nested 100,000 levels deep, then by one
    // with 80,000 keys; and without a graph.
    onnx::ModelProto proto;
    {
        std::ifstream in(file, std::ios::binary);
        REQUIRE(proto.ParseFromIstream(&in));
    }
    const auto write_with_record = [&](const std::string& name, const std::string& record) {
        onnx::ModelProto changed = proto;
        for (auto& entry : *changed.mutable_metadata_props()) {
            if (entry.key() == "xtnn_architecture") {
                entry.set_value(record);
            }
        }
        const fs::path path = dir.path / name;
        std::ofstream out(path, std::ios::binary);
        REQUIRE(changed.SerializeToOstream(&out));
        return path;
    };
    const std::string head =
        R"({"format":"xtnn-architecture/1","xtnn_version":"0.1.0","dtype":"float32","model":)";
    std::string deep = head;
    for (int i = 0; i < 100000; ++i) {
        deep += R"({"kind":"sequential","layers":[)";
    }
    REQUIRE_THROWS_WITH(xtnn::read_onnx_architecture(write_with_record("deep.onnx", deep)),
                        Catch::Contains("deep.onnx': architecture record: layers nest deeper "
                                        "than 64 levels"));
    std::string wide = head + R"({"kind":"dense","options":{)";
    for (int i = 0; i < 80000; ++i) {
        wide += "\"k" + std::to_string(i) + "\":1,";
    }
    wide += R"("last":1}}})";
    REQUIRE_THROWS_WITH(xtnn::read_onnx_architecture(write_with_record("wide.onnx", wide)),
                        Catch::Contains("an object has more than 1024 members"));
    onnx::ModelProto no_graph = proto;
    no_graph.clear_graph();
    {
        std::ofstream out(dir.path / "no_graph.onnx", std::ios::binary);
        REQUIRE(no_graph.SerializeToOstream(&out));
    }
    REQUIRE_THROWS_WITH(xtnn::read_onnx_architecture(dir.path / "no_graph.onnx"),
                        Catch::Contains("the ONNX model has no graph"));
}

namespace {

// A protobuf length-delimited field: its tag, its length as a varint, its bytes.
std::string delimited(int field, const std::string& bytes) {
    std::string out(1, static_cast<char>((field << 3) | 2));
    for (std::uint64_t n = bytes.size();; n >>= 7) {
        out += static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
        if (n < 0x80) {
            break;
        }
    }
    return out + bytes;
}

} // namespace

TEST_CASE("load_onnx: a file that would take many times its size parsed is refused before "
          "parsing",
          "[onnx][load]") {
    scratch_directory dir;
    auto model = xtnn::test::onnx_mlp();
    const auto refuse = [&](const std::string& name, const std::string& bytes) {
        const fs::path file = dir.path / name;
        std::ofstream(file, std::ios::binary) << bytes;
        const auto start = std::chrono::steady_clock::now();
        CHECK_THROWS_WITH(xtnn::load_onnx(model, file),
                          Catch::Contains("load_onnx: '" + file.string() +
                                          "': parsed, the file "
                                          "would take about") &&
                              Catch::Contains("more than 8 times its " +
                                              std::to_string(bytes.size()) + " bytes"));
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(seconds < 5.0); // one streaming pass, nothing built
    };
    // 20 MB of one-byte int64 values in an initializer: 16 bytes each in memory.
    refuse("int64s.onnx",
           delimited(7, delimited(5, delimited(7, std::string(std::size_t{20} << 20, '\x01')))));
    // 4 million empty nodes of two bytes each: a NodeProto each.
    std::string nodes;
    for (int i = 0; i < 4'000'000; ++i) {
        nodes += delimited(1, "");
    }
    refuse("nodes.onnx", delimited(7, nodes));
    // Unknown fields are kept by protobuf too: a record each.
    std::string unknown;
    for (int i = 0; i < 4'000'000; ++i) {
        unknown += delimited(99, "");
    }
    refuse("unknown.onnx", delimited(7, unknown));
    // Nested deeper than protobuf parses.
    std::string deep = delimited(1, "");
    for (int i = 0; i < 200; ++i) {
        deep = delimited(6, delimited(1, delimited(5, deep))); // graph > node > attribute > graph
    }
    const fs::path deep_file = dir.path / "deep.onnx";
    std::ofstream(deep_file, std::ios::binary) << delimited(7, delimited(1, delimited(5, deep)));
    CHECK_THROWS_WITH(xtnn::load_onnx(model, deep_file),
                      Catch::Contains("nests deeper than 100 levels"));
}
