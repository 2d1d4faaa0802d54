#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"
#include "support/python.hpp"
#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;

namespace {

using xtnn::test::scratch_directory;

using model_type = xtnn::sequential<xtnn::dense<float>, xtnn::relu, xtnn::dense<float>>;

model_type make_model(std::uint64_t seed) {
    model_type model{xtnn::dense<float>{4, 3}, xtnn::relu{}, xtnn::dense<float>{3, 2}};
    model.initialize(seed);
    return model;
}

std::vector<float> all_values(model_type& model) {
    std::vector<float> values;
    for (const auto& p : model.parameters()) {
        values.insert(values.end(), p.value.begin(), p.value.end());
    }
    return values;
}

// Writes a zip whose members hold the given bytes (deflated when `compress`).
void write_zip(const fs::path& path,
               const std::vector<std::pair<std::string, std::string>>& members,
               bool compress = false) {
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    REQUIRE(archive != nullptr);
    for (const auto& [name, bytes] : members) {
        zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
        const auto index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
        REQUIRE(index >= 0);
        zip_set_file_compression(archive, static_cast<zip_uint64_t>(index),
                                 compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    }
    REQUIRE(zip_close(archive) == 0);
}

// An .npy member with the given header fields and `values` floats as data.
std::string npy(const std::string& descr, const std::vector<std::size_t>& shape, std::size_t values,
                bool fortran = false) {
    std::string bytes = xtnn::detail::npy_prefix(descr, shape);
    if (fortran) {
        bytes.replace(bytes.find("False"), 5, "True ");
    }
    bytes.append(values * 4, '\0');
    return bytes;
}

// The members of a valid file for make_model(), as save_weights writes them.
std::vector<std::pair<std::string, std::string>> valid_members() {
    return {{"0.weight.npy", npy("<f4", {3, 4}, 12)},
            {"0.bias.npy", npy("<f4", {3}, 3)},
            {"2.weight.npy", npy("<f4", {2, 3}, 6)},
            {"2.bias.npy", npy("<f4", {2}, 2)}};
}

} // namespace

TEST_CASE("npz: save then load restores every parameter", "[io][npz]") {
    scratch_directory dir;
    auto a = make_model(1);
    auto b = make_model(2);
    REQUIRE(all_values(a) != all_values(b));
    xtnn::save_weights(a, dir.path / "w.npz");
    xtnn::load_weights(b, dir.path / "w.npz");
    CHECK(all_values(a) == all_values(b));
    xtnn::tensor<float, 2> x = {{0.1f, -0.2f, 0.3f, 0.4f}};
    CHECK(xtnn::test::equal(a.forward(x), b.forward(x)));
}

TEST_CASE("npz: saving over a file replaces it, and leftovers are never left", "[io][npz]") {
    scratch_directory dir;
    auto a = make_model(1);
    auto b = make_model(2);
    xtnn::save_weights(a, dir.path / "w.npz");
    xtnn::save_weights(b, dir.path / "w.npz");
    auto c = make_model(3);
    xtnn::load_weights(c, dir.path / "w.npz");
    CHECK(all_values(c) == all_values(b));
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("npz: a failed save keeps the previous file and leaves no temporary", "[io][npz]") {
    scratch_directory dir;
    auto a = make_model(1);
    // The target is a non-empty directory: the final rename fails.
    fs::create_directories(dir.path / "taken" / "inside");
    REQUIRE_THROWS_WITH(xtnn::save_weights(a, dir.path / "taken"),
                        Catch::Contains("save_weights: '") && Catch::Contains("taken"));
    CHECK(fs::is_directory(dir.path / "taken" / "inside"));
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
    REQUIRE_THROWS_AS(xtnn::save_weights(a, dir.path / "missing" / "w.npz"), xtnn::io_error);
    CHECK_FALSE(fs::exists(dir.path / "missing"));
    xtnn::sequential no_parameters{xtnn::activation_layer<xtnn::relu, float, 2>{}};
    REQUIRE_THROWS_WITH(xtnn::save_weights(no_parameters, dir.path / "none.npz"),
                        Catch::Contains("has no parameters"));
}

TEST_CASE("npz: bad files are rejected with the reason, and the model is unchanged", "[io][npz]") {
    scratch_directory dir;
    struct bad_case {
        std::string name;
        std::vector<std::pair<std::string, std::string>> members;
        std::string expected;
    };
    auto with = [](std::string key, std::string bytes) {
        auto members = valid_members();
        for (auto& m : members) {
            if (m.first == key) {
                m.second = std::move(bytes);
            }
        }
        return members;
    };
    auto without = [](std::string key) {
        auto members = valid_members();
        std::erase_if(members, [&](const auto& m) { return m.first == key; });
        return members;
    };
    auto plus = [](std::string key, std::string bytes) {
        auto members = valid_members();
        members.emplace_back(std::move(key), std::move(bytes));
        return members;
    };
    const std::vector<bad_case> cases{
        {"missing key", without("2.bias.npy"), "missing key '2.bias' (expected shape (2,))"},
        {"unexpected key", plus("3.weight.npy", npy("<f4", {1}, 1)), "unexpected key '3.weight'"},
        {"shape", with("0.weight.npy", npy("<f4", {3, 5}, 15)),
         "key '0.weight': shape mismatch; expected (3, 4), got (3, 5)"},
        {"rank", with("0.bias.npy", npy("<f4", {3, 1}, 3)),
         "key '0.bias': shape mismatch; expected (3,), got (3, 1)"},
        {"element type", with("0.bias.npy", npy("<f8", {3}, 6)),
         "element type mismatch; expected '<f4', got '<f8'"},
        {"fortran order", with("0.weight.npy", npy("<f4", {3, 4}, 12, true)),
         "Fortran-ordered arrays are not supported"},
        {"truncated data", with("0.weight.npy", npy("<f4", {3, 4}, 11)), "truncated data"},
        {"trailing data", with("0.weight.npy", npy("<f4", {3, 4}, 13)), "data longer than"},
        {"huge claimed shape", with("0.weight.npy", npy("<f4", {4611686018427387904, 4}, 1)),
         "shape mismatch; expected (3, 4), got (4611686018427387904, 4)"},
        {"bad magic", with("0.bias.npy", std::string("NOTNUMPY") + std::string(64, ' ')),
         "bad magic"},
        {"truncated header", with("0.bias.npy", std::string("\x93NUMPY\x01\x00", 8)),
         "truncated .npy header"},
        {"garbage header", with("0.bias.npy", std::string("\x93NUMPY\x01\x00\x08\x00{'a': 1}", 18)),
         "bad .npy header"},
    };
    auto model = make_model(5);
    const auto before = all_values(model);
    for (const auto& c : cases) {
        INFO(c.name);
        const fs::path path = dir.path / (c.name + ".npz");
        write_zip(path, c.members);
        REQUIRE_THROWS_AS(xtnn::load_weights(model, path), xtnn::io_error);
        REQUIRE_THROWS_WITH(xtnn::load_weights(model, path),
                            Catch::Contains(c.expected) && Catch::Contains(path.string()));
        REQUIRE(all_values(model) == before);
    }
}

TEST_CASE("npz: a damaged CRC is reported as damage, the model unchanged", "[io][npz]") {
    scratch_directory dir;
    auto model = make_model(1);
    const fs::path file = dir.path / "w.npz";
    xtnn::save_weights(model, file);
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    // Flip one byte of the last member's data (stored, not compressed): its CRC no longer
    // matches, which libzip reports when the member has been read through.
    const auto at = bytes.rfind("2.bias.npy");
    const auto data = bytes.rfind("2.bias.npy", at - 1);
    REQUIRE(data != std::string::npos);
    const std::size_t flip = data + std::string("2.bias.npy").size() + 128 + 2;
    bytes[flip] = static_cast<char>(bytes[flip] ^ 0x40);
    std::ofstream(file, std::ios::binary) << bytes;
    auto other = make_model(2);
    const auto before = all_values(other);
    CHECK_THROWS_WITH(xtnn::load_weights(other, file),
                      Catch::Contains("key '2.bias': damaged data (CRC error)"));
    CHECK(all_values(other) == before);
}

TEST_CASE("npz: saving keeps the file's mode and writes through symlinks", "[io][npz]") {
    scratch_directory dir;
    auto model = make_model(1);
    const fs::path target = dir.path / "private.npz";
    xtnn::save_weights(model, target);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_directory(dir.path / "links");
    fs::create_symlink("../private.npz", dir.path / "links" / "current.npz");
    auto other = make_model(2);
    xtnn::save_weights(other, dir.path / "links" / "current.npz");
    CHECK(fs::is_symlink(dir.path / "links" / "current.npz"));
    CHECK(fs::status(target).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    auto back = make_model(3);
    xtnn::load_weights(back, target);
    CHECK(all_values(back) == all_values(other));
    // A dangling link: the file is created where it points.
    fs::create_symlink("new.npz", dir.path / "dangling.npz");
    xtnn::save_weights(model, dir.path / "dangling.npz");
    CHECK(fs::is_regular_file(dir.path / "new.npz"));
    CHECK(fs::is_symlink(dir.path / "dangling.npz"));
    // Errors examining the path are io_error with the system's reason.
    CHECK_THROWS_AS(xtnn::load_weights(back, target / "x.npz"), xtnn::io_error);
    CHECK_THROWS_WITH(xtnn::load_weights(back, target / "x.npz"),
                      Catch::Contains("cannot examine the file: Not a directory"));
    fs::create_symlink("loop.npz", dir.path / "loop.npz");
    CHECK_THROWS_WITH(xtnn::save_weights(model, dir.path / "loop.npz"),
                      Catch::Contains("too many levels of symbolic links"));
}

TEST_CASE("npz: files that are not zip archives", "[io][npz]") {
    scratch_directory dir;
    auto model = make_model(5);
    REQUIRE_THROWS_WITH(xtnn::load_weights(model, dir.path / "absent.npz"),
                        Catch::Contains("no such file"));
    std::ofstream(dir.path / "text.npz") << "definitely not a zip file";
    REQUIRE_THROWS_WITH(xtnn::load_weights(model, dir.path / "text.npz"),
                        Catch::Contains("not a readable .npz (zip) file"));
    // A real archive cut in half.
    xtnn::save_weights(model, dir.path / "full.npz");
    const auto size = fs::file_size(dir.path / "full.npz");
    fs::copy_file(dir.path / "full.npz", dir.path / "cut.npz");
    fs::resize_file(dir.path / "cut.npz", size / 2);
    REQUIRE_THROWS_AS(xtnn::load_weights(model, dir.path / "cut.npz"), xtnn::io_error);
}

TEST_CASE("npz: non-strict loads ignore unknown keys and keep missing parameters", "[io][npz]") {
    scratch_directory dir;
    auto members = valid_members();
    members.erase(members.begin()); // no 0.weight
    members.emplace_back("optimizer_state.npy", npy("<f4", {7}, 7));
    write_zip(dir.path / "partial.npz", members);
    auto model = make_model(5);
    const auto weight = model.layer<0>().weight();
    xtnn::load_weights(model, dir.path / "partial.npz", {.strict = false});
    CHECK(xtnn::test::equal(model.layer<0>().weight(), weight));
    CHECK(xt::amax(xt::abs(model.layer<2>().weight()))() == 0.0f); // read from the file: zeros
}

TEST_CASE("npz: numpy reads what xtnn writes, and the record leaves it a plain state dict",
          "[io][npz][numpy]") {
    if (!xtnn::test::python_ready("numpy", "python3-numpy")) {
        return;
    }
    scratch_directory dir;
    auto model = make_model(7);
    const fs::path path = dir.path / "w.npz";
    xtnn::save_weights(model, path);
    const std::string out = xtnn::test::run_python(
        "import numpy as np; f = np.load('" + path.string() +
        "'); print(' "
        "'.join(f'{k}:{f[k].dtype}:{f[k].shape}:{float(f[k].astype(np.float64).sum()):.9g}'"
        " for k in f.files))");
    std::ostringstream expected;
    bool first = true;
    for (const auto& p : model.parameters()) {
        double sum = 0;
        for (float v : p.value) {
            sum += static_cast<double>(v);
        }
        char number[32];
        std::snprintf(number, sizeof number, "%.9g", sum);
        expected << (first ? "" : " ") << p.name << ":float32:" << xtnn::format_shape(p.shape)
                 << ":" << number;
        first = false;
    }
    CHECK(out == expected.str() + "\n");

    // The architecture record leaves it a plain state dict of arrays; Python reads it too.
    const std::string record = xtnn::test::run_python(
        "import json, zipfile, numpy as np; d = dict(np.load('" + path.string() +
        "')); print(sorted(d), all(isinstance(v, np.ndarray) for v in d.values())); r = "
        "json.loads(zipfile.ZipFile('" +
        path.string() +
        "').comment); print(r['dtype'], [l['kind'] for l in r['model']['layers']])");
    CHECK(record == "['0.bias', '0.weight', '2.bias', '2.weight'] True\n"
                    "float32 ['dense', 'relu', 'dense']\n");
}

TEST_CASE("npz: xtnn reads numpy's savez and savez_compressed", "[io][npz][numpy]") {
    if (!xtnn::test::python_ready("numpy", "python3-numpy")) {
        return;
    }
    scratch_directory dir;
    for (const std::string writer : {"savez", "savez_compressed"}) {
        INFO(writer);
        const fs::path path = dir.path / (writer + ".npz");
        xtnn::test::run_python("import numpy as np; r = np.arange(100, dtype=np.float32) / 7; np." +
                               writer + "('" + path.string() +
                               "', **{'0.weight': r[:12].reshape(3, 4), '0.bias': r[12:15], "
                               "'2.weight': r[15:21].reshape(2, 3), '2.bias': r[21:23]})");
        auto model = make_model(9);
        xtnn::load_weights(model, path);
        const auto values = all_values(model);
        REQUIRE(values.size() == 23);
        for (std::size_t i = 0; i < values.size(); ++i) {
            REQUIRE(values[i] == static_cast<float>(i) / 7.0f);
        }
    }
}

TEST_CASE("npz: read_npz_headers lists every array's name, type and shape without its data",
          "[io][npz]") {
    scratch_directory dir;
    xtnn::sequential model{xtnn::conv2d{1, 4, 3}, xtnn::batch_norm2d{4}, xtnn::relu{},
                           xtnn::flatten{}, xtnn::dense{4 * 4 * 4, 2}};
    xtnn::save_weights(model, dir.path / "cnn.npz");
    const auto arrays = xtnn::read_npz_headers(dir.path / "cnn.npz");
    std::vector<std::string> names;
    for (const auto& a : arrays) {
        names.push_back(a.name + " " + a.header.descr + " " + xtnn::format_shape(a.header.shape));
    }
    CHECK(names == std::vector<std::string>{"0.weight <f4 (4, 1, 3, 3)", "0.bias <f4 (4,)",
                                            "1.weight <f4 (4,)", "1.bias <f4 (4,)",
                                            "4.weight <f4 (2, 64)", "4.bias <f4 (2,)",
                                            "1.running_mean <f4 (4,)", "1.running_var <f4 (4,)",
                                            "1.num_batches_tracked <i8 ()"});

    // A header that claims a huge array is listed as it is: nothing is read or allocated.
    write_zip(dir.path / "huge.npz", {{"w.npy", npy("<f4", {4611686018427387904, 4}, 1)}});
    const auto huge = xtnn::read_npz_headers(dir.path / "huge.npz");
    REQUIRE(huge.size() == 1);
    CHECK(huge[0].header.shape == std::vector<std::size_t>{4611686018427387904, 4});
}

TEST_CASE("npz: read_npz_headers names the file and the member it cannot read", "[io][npz]") {
    scratch_directory dir;
    REQUIRE_THROWS_WITH(xtnn::read_npz_headers(dir.path / "absent.npz"),
                        Catch::Contains("read_npz_headers") && Catch::Contains("no such file"));
    std::ofstream(dir.path / "text.npz") << "definitely not a zip file";
    REQUIRE_THROWS_WITH(xtnn::read_npz_headers(dir.path / "text.npz"),
                        Catch::Contains("not a readable .npz (zip) file"));
    write_zip(dir.path / "readme.npz", {{"0.bias.npy", npy("<f4", {3}, 3)}, {"README", "hello"}});
    REQUIRE_THROWS_WITH(xtnn::read_npz_headers(dir.path / "readme.npz"),
                        Catch::Contains("member 'README' is not an .npy array"));
    write_zip(dir.path / "bad.npz",
              {{"0.bias.npy", std::string("NOTNUMPY") + std::string(64, ' ')}});
    REQUIRE_THROWS_WITH(xtnn::read_npz_headers(dir.path / "bad.npz"),
                        Catch::Contains("key '0.bias'") && Catch::Contains("bad magic"));
    write_zip(dir.path / "short.npz", {{"0.bias.npy", std::string("\x93NUMPY\x01\x00", 8)}});
    REQUIRE_THROWS_WITH(xtnn::read_npz_headers(dir.path / "short.npz"),
                        Catch::Contains("truncated .npy header"));
}

TEST_CASE("npz: save_weights records the architecture, and read_architecture reads it alone",
          "[io][npz][architecture]") {
    scratch_directory dir;
    auto model = make_model(3);
    xtnn::save_weights(model, dir.path / "w.npz");
    const auto record = xtnn::read_architecture(dir.path / "w.npz");
    REQUIRE(record.has_value());
    CHECK(record->model == xtnn::describe(model));
    CHECK(record->model.to_string() ==
          "sequential(dense(in=4, out=3, bias=true), relu, dense(in=3, out=2, bias=true))");
    CHECK(record->dtype == "float32");
    CHECK(record->xtnn_version == xtnn::architecture_of(model).xtnn_version);

    // Files from NumPy, PyTorch or save_state() record none, and still load by names.
    write_zip(dir.path / "plain.npz", valid_members());
    CHECK_FALSE(xtnn::read_architecture(dir.path / "plain.npz").has_value());
    CHECK_NOTHROW(xtnn::load_weights(model, dir.path / "plain.npz"));
    auto params = model.parameters();
    xtnn::save_parameters(std::span<const xtnn::parameter_view<float>>(params),
                          dir.path / "state.npz");
    CHECK_FALSE(xtnn::read_architecture(dir.path / "state.npz").has_value());

    REQUIRE_THROWS_AS(xtnn::read_architecture(dir.path / "absent.npz"), xtnn::io_error);
    REQUIRE_THROWS_WITH(xtnn::read_architecture(dir.path / "absent.npz"),
                        Catch::Matchers::Contains("absent.npz"));
}

TEST_CASE("npz: a model of another architecture is refused, naming the first difference",
          "[io][npz][architecture]") {
    scratch_directory dir;
    auto model = make_model(3);
    const fs::path path = dir.path / "relu.npz";
    xtnn::save_weights(model, path);

    // Same names and shapes, another activation.
    xtnn::sequential other{xtnn::dense<float>{4, 3}, xtnn::tanh{}, xtnn::dense<float>{3, 2}};
    const auto before = other.layer<0>().weight();
    REQUIRE_THROWS_AS(xtnn::load_weights(other, path), xtnn::io_error);
    REQUIRE_THROWS_WITH(
        xtnn::load_weights(other, path),
        Catch::Matchers::Contains(path.string()) &&
            Catch::Matchers::Contains("layer 1 differs: the file has relu, the model has tanh"));
    CHECK(xtnn::test::equal(other.layer<0>().weight(), before)); // unchanged

    // Asked not to compare (or a partial load), names and shapes decide.
    xtnn::load_weights(other, path, {.check_architecture = false});
    CHECK(xtnn::test::equal(other.layer<0>().weight(), model.layer<0>().weight()));
    CHECK_NOTHROW(xtnn::load_weights(other, path, {.strict = false}));

    // Another option of a layer with the same shapes: a dense without bias has fewer arrays,
    // but the record is compared first and names the layer.
    xtnn::sequential no_bias{xtnn::dense<float>{{.in = 4, .out = 3, .bias = false}}, xtnn::relu{},
                             xtnn::dense<float>{3, 2}};
    REQUIRE_THROWS_WITH(xtnn::load_weights(no_bias, path),
                        Catch::Matchers::Contains(
                            "layer 0 differs: the file has dense(in=4, out=3, bias=true), the "
                            "model has dense(in=4, out=3, bias=false)"));

    // The same model loads, of course.
    auto same = make_model(11);
    xtnn::load_weights(same, path);
    CHECK(all_values(same) == all_values(model));
}

TEST_CASE("npz: a damaged architecture record is an io_error, and other zip comments are ignored",
          "[io][npz][architecture]") {
    scratch_directory dir;
    const auto with_comment = [&](const std::string& name, const std::string& comment) {
        const fs::path path = dir.path / name;
        write_zip(path, valid_members());
        int code = 0;
        zip_t* archive = zip_open(path.c_str(), 0, &code);
        REQUIRE(archive != nullptr);
        REQUIRE(zip_set_archive_comment(archive, comment.data(),
                                        static_cast<zip_uint16_t>(comment.size())) == 0);
        REQUIRE(zip_close(archive) == 0);
        return path;
    };
    const std::string head = R"({"format":"xtnn-architecture/1","xtnn_version":"0.1.0",)";
    const std::pair<std::string, std::string> bad[] = {
        {head + R"("dtype":"float32","model":{"kind":"sequential")", "not valid JSON"},
        {head + R"("dtype":"float32"})", "no \"model\""},
        {head + R"("model":{"kind":"dense"}})", "no \"dtype\" word"},
        {head + R"("dtype":"float32","model":{"layers":[]}})", "a \"kind\" word"},
        {head + R"("dtype":"float32","model":{"kind":"dense","options":{"in":{"x":1}}}})",
         "option 'in': an option must be a flag, a number, a word or a list of whole numbers"},
        {head + R"("dtype":"float32","model":{"kind":"dense","options":{"in":[1,-2.5]}}})",
         "expected a whole number, got -2.5"},
        {head + R"("dtype":"float32","model":{"kind":"d","options":{"n":18446744073709551615}}})",
         "out of range"},
        {head + R"("dtype":"float32","model":{"kind":"dense","weights":[1]}})",
         "unexpected member 'weights'"},
        {R"({"format":"xtnn-architecture/9","model":{}})", "unknown format"},
    };
    auto model = make_model(3);
    for (std::size_t i = 0; i < std::size(bad); ++i) {
        INFO(bad[i].first);
        const auto path = with_comment("bad" + std::to_string(i) + ".npz", bad[i].first);
        REQUIRE_THROWS_AS(xtnn::read_architecture(path), xtnn::io_error);
        REQUIRE_THROWS_WITH(xtnn::read_architecture(path),
                            Catch::Matchers::Contains(path.string()) &&
                                Catch::Matchers::Contains(bad[i].second));
        REQUIRE_THROWS_AS(xtnn::load_weights(model, path), xtnn::io_error);
    }

    // Nesting deeper than any model: refused before it can exhaust the stack.
    std::string deep = head + R"("dtype":"float32","model":)";
    for (int i = 0; i < 1500; ++i) {
        deep += R"({"kind":"sequential","layers":[)";
    }
    deep += R"({"kind":"relu"})";
    for (int i = 0; i < 1500; ++i) {
        deep += "]}";
    }
    deep += "}";
    REQUIRE(deep.size() < 65536);
    REQUIRE_THROWS_WITH(xtnn::read_architecture(with_comment("deep.npz", deep)),
                        Catch::Matchers::Contains("nest deeper than 64 levels"));

    // The limits hold while parsing, for records of any size (an ONNX file's metadata has
    // no zip comment's 64 KiB bound): 100,000 levels, 80,000 keys, 5 MB.
    const std::string model_head = head + R"("dtype":"float32","model":)";
    std::string very_deep = model_head;
    for (int i = 0; i < 100000; ++i) {
        very_deep += R"({"kind":"sequential","layers":[)";
    }
    REQUIRE_THROWS_MATCHES(xtnn::detail::architecture_from_json(very_deep, "x.onnx"),
                           xtnn::io_error,
                           Catch::Message("x.onnx: architecture record: layers nest deeper than "
                                          "64 levels"));
    std::string wide = model_head + R"({"kind":"dense","options":{)";
    for (int i = 0; i < 80000; ++i) {
        wide += "\"k" + std::to_string(i) + "\":1,";
    }
    wide += R"("last":1}}})";
    REQUIRE_THROWS_MATCHES(
        xtnn::detail::architecture_from_json(wide, "x.onnx"), xtnn::io_error,
        Catch::Message("x.onnx: architecture record: an object has more than 1024 members"));
    const std::string long_record =
        model_head + R"({"kind":")" + std::string(5000000, 'a') + R"("}})";
    REQUIRE_THROWS_WITH(xtnn::detail::architecture_from_json(long_record, "x.onnx"),
                        Catch::Matchers::Equals(
                            "x.onnx: architecture record: " + std::to_string(long_record.size()) +
                            " bytes is too long for a record; expected at "
                            "most 4194304"));
    // Invalid JSON is quoted, in a bounded excerpt.
    const std::string brackets = head + std::string(100, '[');
    REQUIRE_THROWS_WITH(xtnn::detail::architecture_from_json(brackets, "x"),
                        Catch::Matchers::EndsWith("in '" + brackets.substr(0, 60) + "…'"));

    // A comment that is not a record (another tool's) is no record.
    const auto other = with_comment("other.npz", "written by some archiver");
    CHECK_FALSE(xtnn::read_architecture(other).has_value());
    CHECK_NOTHROW(xtnn::load_weights(model, other));
}

TEST_CASE("npz: model_checkpoint's files record the architecture", "[io][npz][architecture]") {
    scratch_directory dir;
    auto model = make_model(3);
    xtnn::tensor<float, 2> x = xt::ones<float>({8, 4});
    xtnn::tensor<std::uint8_t, 1> y = xt::zeros<std::uint8_t>({8});
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{}, xtnn::sgd({.learning_rate = 0.1})};
    xtnn::model_checkpoint checkpoint({.path = dir.path / "epoch-{epoch}.npz"});
    trainer.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = xtnn::verbosity::silent},
                checkpoint);
    const auto record = xtnn::read_architecture(dir.path / "epoch-01.npz");
    REQUIRE(record.has_value());
    CHECK(record->model == xtnn::describe(model));
}
