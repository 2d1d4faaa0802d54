#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

TEST_CASE("visit: every layer, depth first, with its state-dict prefix", "[visit]") {
    xtnn::sequential model{
        xtnn::dense{4, 8}, xtnn::relu{},
        xtnn::residual{xtnn::sequential{xtnn::dense{8, 8}, xtnn::batch_norm1d{8}}},
        xtnn::residual{xtnn::dense{8, 2}, xtnn::dense{8, 2}}};
    std::vector<std::string> seen;
    xtnn::visit(model, [&]<class L>(const std::string& prefix, L&) {
        seen.push_back("'" + prefix + "' " + std::string(L::name));
    });
    const std::vector<std::string> expected{
        "'' sequential",   "'0.' dense",           "'1.' relu",           "'2.' residual",
        "'2.' sequential", "'2.0.' dense",         "'2.1.' batch_norm1d", "'3.' residual",
        "'3.' dense",      "'3.projection.' dense"};
    CHECK(seen == expected);

    // The names of parameters and buffers follow the same prefixes.
    std::vector<std::string> names;
    for (const auto& p : model.parameters()) {
        names.push_back(p.name);
    }
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias",
                                            "2.1.weight", "2.1.bias", "3.weight", "3.bias",
                                            "3.projection.weight", "3.projection.bias"});
    names.clear();
    for (const auto& b : model.buffers()) {
        names.push_back(b.name);
    }
    CHECK(names == std::vector<std::string>{"2.1.running_mean", "2.1.running_var",
                                            "2.1.num_batches_tracked"});

    // Const models visit as const.
    const auto& constant = model;
    std::size_t count = 0;
    xtnn::visit(constant, [&]<class L>(const std::string&, L&) {
        static_assert(std::is_const_v<L>);
        ++count;
    });
    CHECK(count == expected.size());
}

TEST_CASE("child_prefix: the naming rule", "[visit]") {
    CHECK(xtnn::child_prefix("", "0") == "0.");
    CHECK(xtnn::child_prefix("2.", "1") == "2.1.");
    CHECK(xtnn::child_prefix("2.", "") == "2.");
    CHECK(xtnn::child_prefix("3.", "projection") == "3.projection.");
}
