#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/errors.hpp>
#include <xtnn/model/history.hpp>

#include "support/scratch_directory.hpp"

namespace fs = std::filesystem;

namespace {

xtnn::history two_epochs() {
    xtnn::history h;
    h.append(0, {{"loss", 0.5}, {"accuracy", 0.75}});
    h.append(1, {{"loss", 0.25}, {"accuracy", 0.875}});
    return h;
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("history: write_csv to a stream and to a path give the same text", "[model][history]") {
    const auto h = two_epochs();
    std::ostringstream stream;
    h.write_csv(stream);
    CHECK(stream.str() == "epoch,loss,accuracy\n1,0.5,0.75\n2,0.25,0.875\n");
    xtnn::test::scratch_directory dir;
    h.write_csv(dir.path / "history.csv");
    CHECK(read(dir.path / "history.csv") == stream.str());
    CHECK(h["accuracy"] == std::vector<double>{0.75, 0.875});
}

TEST_CASE("history: write_csv replaces a file atomically, keeping its mode and links",
          "[model][history]") {
    xtnn::test::scratch_directory dir;
    const fs::path target = dir.path / "private.csv";
    {
        std::ofstream old(target);
        old << "old\n";
    }
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink("private.csv", dir.path / "link.csv");
    two_epochs().write_csv(dir.path / "link.csv");
    CHECK(fs::is_symlink(dir.path / "link.csv"));
    CHECK_THAT(read(target), Catch::StartsWith("epoch,loss,accuracy\n"));
    CHECK(fs::status(target).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    // No temporary file is left next to it.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) {
        ++files;
    }
    CHECK(files == 2);
}

TEST_CASE("history: write_csv names the file it cannot write", "[model][history]") {
    xtnn::test::scratch_directory dir;
    REQUIRE_THROWS_AS(two_epochs().write_csv(dir.path / "missing" / "h.csv"), xtnn::io_error);
    REQUIRE_THROWS_WITH(two_epochs().write_csv(dir.path / "missing" / "h.csv"),
                        Catch::StartsWith("history::write_csv: '") &&
                            Catch::Contains("missing/h.csv': cannot create"));
    fs::create_directory(dir.path / "folder.csv");
    REQUIRE_THROWS_AS(two_epochs().write_csv(dir.path / "folder.csv"), xtnn::io_error);
    CHECK(fs::is_directory(dir.path / "folder.csv"));
}
