// A training process killed with SIGKILL at random moments (mid-batch, mid-save) and started
// again until it finishes ends with the bits of one that ran uninterrupted: weights, batch
// norm's statistics, the history and save_best_only's file. The process is this test binary,
// run again on its hidden "[backup-child]" case.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/scratch_directory.hpp"
#include "support/training.hpp"

extern char** environ;

namespace {

auto make_model() {
    xtnn::sequential model{xtnn::dense{2, 32}, xtnn::batch_norm1d{32}, xtnn::relu{},
                           xtnn::dropout{0.2}, xtnn::dense{32, 2}};
    model.initialize(8);
    return model;
}

// Starts this binary on the child case, training in `dir`; returns its pid.
pid_t start_child(const std::filesystem::path& dir) {
    const std::string variable = "XTNN_BACKUP_CHILD=" + dir.string();
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
        env.push_back(*e);
    }
    env.push_back(const_cast<char*>(variable.c_str()));
    env.push_back(nullptr);
    std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string spec = "[backup-child]";
    std::vector<char*> argv{exe.data(), spec.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(error == 0);
    return pid;
}

// Waits for the child; true if it finished by itself with status 0.
bool finished(pid_t pid) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A weight file's parameters and buffers as bytes (the zip's own times differ between runs).
std::vector<std::byte> weights_in(const std::filesystem::path& path) {
    auto model = make_model();
    xtnn::load_weights(model, path);
    return xtnn::test::state_bytes(model);
}

} // namespace

TEST_CASE("backup child: trains in $XTNN_BACKUP_CHILD with backups", "[.][backup-child]") {
    const char* where = std::getenv("XTNN_BACKUP_CHILD");
    REQUIRE(where != nullptr);
    const std::filesystem::path dir(where);
    const auto data = xtnn::make_two_spirals<float>({.samples_per_class = 200, .seed = 4});
    auto model = make_model();
    xtnn::trainer trainer{model, xtnn::softmax_cross_entropy{},
                          xtnn::adam<float>({.learning_rate = 0.01}), xtnn::accuracy{}};
    xtnn::model_checkpoint best({.path = dir / "best.npz", .save_best_only = true});
    xtnn::reduce_on_plateau plateau({.factor = 0.5, .patience = 1});
    const auto history = trainer.fit(data.features, data.labels,
                                     {.epochs = 8,
                                      .batch_size = 8,
                                      .validation_split = 0.2,
                                      .seed = 6,
                                      .verbose = xtnn::verbosity::silent,
                                      .backup = {.path = dir / "backup.npz", .every_batches = 3}},
                                     best, plateau);
    xtnn::save_weights(model, dir / "final.npz");
    history.write_csv(dir / "history.csv");
}

TEST_CASE("a training killed with SIGKILL at random moments and run again ends with the bits "
          "of one never interrupted",
          "[model][backup]") {
    xtnn::test::scratch_directory scratch;
    const auto reference = scratch.path / "reference";
    const auto killed = scratch.path / "killed";
    std::filesystem::create_directories(reference);
    std::filesystem::create_directories(killed);

    const auto start = std::chrono::steady_clock::now();
    REQUIRE(finished(start_child(reference)));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    xtnn::random_engine rng(
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::size_t kills = 0;
    std::size_t with_backup = 0;
    bool done = false;
    for (int attempt = 0; attempt < 8 && !done; ++attempt) {
        const pid_t pid = start_child(killed);
        std::this_thread::sleep_for(
            std::chrono::duration<double>(rng.uniform(0.05, 0.4) * seconds));
        ::kill(pid, SIGKILL);
        done = finished(pid);
        if (!done) {
            ++kills;
            with_backup += std::filesystem::exists(killed / "backup.npz") ? 1U : 0U;
        }
    }
    if (!done) {
        REQUIRE(finished(start_child(killed)));
    }
    INFO(kills << " kills, " << with_backup << " of them after a backup had been written; an "
               << "uninterrupted run took " << seconds << " s");
    CHECK(kills >= 2);
    CHECK(with_backup >= 1);
    CHECK(weights_in(killed / "final.npz") == weights_in(reference / "final.npz"));
    CHECK(weights_in(killed / "best.npz") == weights_in(reference / "best.npz"));
    CHECK(file_text(killed / "history.csv") == file_text(reference / "history.csv"));
    // No backup (deleted when training ended) and no temporary of a killed save is left.
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator(killed)) {
        left.push_back(entry.path().filename().string());
    }
    std::sort(left.begin(), left.end());
    CHECK(left == std::vector<std::string>{"best.npz", "final.npz", "history.csv"});
}
