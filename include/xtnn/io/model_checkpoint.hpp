/// @file
/// model_checkpoint: save the weights every epoch, or whenever a watched value improves.
/// (A training callback that lives with the weight files it writes.)
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xtnn/core/options.hpp>
#include <xtnn/io/npz.hpp>
#include <xtnn/model/callbacks/monitor.hpp>

namespace xtnn {

/// Options of model_checkpoint.
/// @ingroup model
struct model_checkpoint_options {
    /// Where to save; "{epoch}" is replaced by the epoch number from 1, two digits wide
    /// ("weights-{epoch}.npz" -> "weights-03.npz").
    std::filesystem::path path = "checkpoint.npz";
    bool save_best_only = false;                 ///< Save only when the watched value improves.
    std::string monitor = "val_loss";            ///< The value watched with save_best_only.
    monitor_mode mode = monitor_mode::automatic; ///< Whether it should fall or rise.
};

/// Saves the model's weights and buffers (.npz, as save_weights) at the end of every epoch, or with
/// `save_best_only` only when the watched value improved. Each save replaces the file
/// atomically, so an interrupted run leaves the last complete checkpoint. In a data-parallel
/// fit only rank 0 writes (saved() stays empty elsewhere).
/// @code
/// xtnn::model_checkpoint checkpoint({.path = "best.npz", .save_best_only = true});
/// trainer.fit(x, y, {.epochs = 20, .validation_split = 0.1}, checkpoint);
/// xtnn::load_weights(model, "best.npz");
/// @endcode
/// @ingroup model
class model_checkpoint {
  public:
    /// `model_checkpoint({})`: the default options, as `model_checkpoint()`.
    explicit model_checkpoint(detail::empty_braces) : model_checkpoint() {}
    /// A callback with the given options.
    explicit model_checkpoint(model_checkpoint_options options = {})
        : options_(std::move(options)),
          monitor_(options_.monitor, options_.mode, 0.0, "model_checkpoint") {}

    /// The files written, in order.
    const std::vector<std::filesystem::path>& saved() const { return saved_; }

    /// Resets the watch.
    template <class State>
    void on_train_begin(State&) {
        monitor_.reset();
    }

    /// Saves if due.
    template <class State>
    void on_epoch_end(State& s) {
        if (options_.save_best_only && !monitor_.improves(monitor_.read(s, "model_checkpoint"))) {
            return;
        }
        if (s.rank != 0) {
            return; // on several processes rank 0 writes; the others hold the same weights
        }
        const auto path = path_for(s.epoch);
        using parameter = typename decltype(s.parameters)::value_type;
        using buffer = typename decltype(s.buffers)::value_type;
        xtnn::save_state(
            std::span<const parameter>(s.parameters), std::span<const buffer>(s.buffers), path,
            s.architecture == nullptr ? std::nullopt
                                      : std::optional<model_architecture>(*s.architecture));
        saved_.push_back(path);
    }

    /// Puts the best value so far into `s`: after a resume, save_best_only still compares with
    /// the best before the crash.
    void save_state(saved_state& s) const { monitor_.save_state(s); }
    /// Continues from a save_state().
    void load_state(const saved_state& s) { monitor_.load_state(s); }

  private:
    std::filesystem::path path_for(std::size_t epoch) const {
        std::string p = options_.path.string();
        const auto at = p.find("{epoch}");
        if (at != std::string::npos) {
            char number[32];
            std::snprintf(number, sizeof number, "%02zu", epoch + 1);
            p.replace(at, 7, number);
        }
        return p;
    }

    model_checkpoint_options options_;
    detail::monitor monitor_;
    std::vector<std::filesystem::path> saved_;
};

} // namespace xtnn
