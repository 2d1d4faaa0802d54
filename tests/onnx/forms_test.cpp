// Every layer kind xtnn ships describes itself both ways (describe, from_description) and has
// an ONNX form; a new kind that lacks either fails here (docs/extending.md's checklist).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <xtnn/onnx.hpp>
#include <xtnn/xtnn.hpp>

namespace fs = std::filesystem;

namespace {

// Kinds that have no ONNX form, each with the reason. None today.
const std::set<std::string> without_onnx_form{};

// The kinds the layer and activation headers define (their `name`s).
std::set<std::string> kinds_in_headers() {
    std::set<std::string> kinds;
    // (a plain search: GCC 12 warns falsely inside std::regex under the sanitizers)
    const std::string marker = "std::string_view name = \"";
    for (const char* folder : {"layers", "activations"}) {
        for (const auto& entry :
             fs::directory_iterator(fs::path(XTNN_SOURCE_DIR) / "include/xtnn" / folder)) {
            std::ifstream in(entry.path());
            std::stringstream text;
            text << in.rdbuf();
            const std::string s = text.str();
            for (auto at = s.find(marker); at != std::string::npos; at = s.find(marker, at)) {
                at += marker.size();
                const auto end = s.find('"', at);
                kinds.insert(s.substr(at, end - at));
            }
        }
    }
    return kinds;
}

struct registry {
    std::set<std::string> checked;

    // Layer `I` of `model`: its description builds the same layer back, and its type has an
    // ONNX form (or is listed without one).
    template <std::size_t I, class Model>
    void check(const Model& model) {
        using L = typename Model::template layer_type<I>;
        const auto& layer = model.template layer<I>();
        const auto d = xtnn::describe(layer);
        INFO(d.to_string());
        CHECK(xtnn::describe(xtnn::from_description<L>(d)) == d);
        CHECK((xtnn::has_onnx_form<L> || without_onnx_form.count(d.kind) != 0));
        checked.insert(d.kind);
    }

    template <class Model>
    void check_all(const Model& model) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (check<I>(model), ...);
        }
        (std::make_index_sequence<Model::size>{});
        const auto d = xtnn::describe(model);
        CHECK(xtnn::describe(xtnn::from_description<Model>(d)) == d);
        checked.insert(d.kind);
    }
};

} // namespace

TEST_CASE("every layer kind: a description round trip and an ONNX form", "[onnx][forms]") {
    registry r;
    r.check_all(xtnn::sequential{
        xtnn::random_affine<float>({.translation = 0.1}), xtnn::conv2d{1, 4, 3},
        xtnn::batch_norm2d{4}, xtnn::relu{}, xtnn::max_pool2d{}, xtnn::avg_pool2d{},
        xtnn::sigmoid{}, xtnn::tanh{}, xtnn::softplus{}, xtnn::identity{}, xtnn::leaky_relu{0.2},
        xtnn::elu{}, xtnn::gelu{}, xtnn::dropout{0.1}, xtnn::global_avg_pool2d{},
        xtnn::batch_norm1d{4}, xtnn::dense{4, 4},
        xtnn::residual{xtnn::sequential{xtnn::dense{4, 4}}}, xtnn::softmax{}});
    r.check_all(xtnn::sequential{xtnn::conv2d{1, 2, 3}, xtnn::flatten{}, xtnn::dense{2, 3},
                                 xtnn::log_softmax{}});
    const auto defined = kinds_in_headers();
    for (const auto& kind : defined) {
        INFO("layer kind '" << kind << "' has no case here: add it to the models above");
        CHECK(r.checked.count(kind) == 1);
    }
    CHECK(defined.size() >= 20);
}
