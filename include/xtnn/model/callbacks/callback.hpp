/// @file
/// What fit() tells callbacks, the optional hooks a callback may have, and lambda_callback.
#pragma once

#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string_view>
#include <utility>

#include <xtnn/core/description.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/model/history.hpp>

namespace xtnn {

/// What a callback sees and may change while fit() runs.
///
/// `logs` holds the running means of the epoch so far ("loss", metrics) during it, and at
/// on_epoch_end also the validation values ("val_loss", …). Callbacks may set
/// `learning_rate` (fit applies it to the optimizer before the next batch) and
/// `stop_training` (fit stops after the current batch, or at the end of the epoch when set
/// in on_epoch_end).
/// @tparam T the model's scalar type.
/// @ingroup model
template <class T>
struct training_state {
    std::size_t epoch = 0;                   ///< The current epoch, 0-based.
    std::size_t epochs = 0;                  ///< The epoch fit stops before (fit_options::epochs).
    std::size_t batch = 0;                   ///< The current batch of the epoch, 0-based.
    std::size_t batches = 0;                 ///< Batches per epoch.
    std::size_t samples = 0;                 ///< Training samples per epoch.
    double batch_loss = 0;                   ///< The loss of the last batch.
    std::span<const log_entry> logs;         ///< The named values so far.
    std::span<parameter_view<T>> parameters; ///< The model's parameters.
    std::span<buffer_view<T>> buffers;       ///< The model's buffers (state not trained).
    /// The model's architecture (what model_checkpoint records in its files); null for a model
    /// that cannot describe itself.
    const model_architecture* architecture = nullptr;
    /// This process's rank when fit trains on several (fit_options::distributed), 0 alone:
    /// callbacks that print or write files do it on rank 0 only.
    std::size_t rank = 0;
    std::size_t processes = 1;  ///< The number of processes fit trains on.
    double learning_rate = 0;   ///< The optimizer's rate; may be set.
    bool stop_training = false; ///< Set to stop early.

    /// The value of log `name`, or NaN if there is none (yet).
    double log(std::string_view name) const {
        for (const auto& entry : logs) {
            if (entry.name == name) {
                return entry.value;
            }
        }
        return std::numeric_limits<double>::quiet_NaN();
    }
};

namespace detail {

/// @cond INTERNAL
// Calls a hook when the callback has it; callbacks implement only the hooks they need.
#define XTNN_DEFINE_HOOK(hook)                                                                     \
    template <class Callback, class State>                                                         \
    void call_##hook(Callback& callback, State& state) {                                           \
        if constexpr (requires { callback.hook(state); }) {                                        \
            callback.hook(state);                                                                  \
        }                                                                                          \
    }
XTNN_DEFINE_HOOK(on_train_begin)
XTNN_DEFINE_HOOK(on_epoch_begin)
XTNN_DEFINE_HOOK(on_batch_end)
XTNN_DEFINE_HOOK(on_epoch_end)
XTNN_DEFINE_HOOK(on_train_end)
#undef XTNN_DEFINE_HOOK
/// @endcond

template <class C, class State>
concept has_any_hook = requires(C& c, State& s) {
    c.on_train_begin(s);
}
|| requires(C& c, State& s) {
    c.on_epoch_begin(s);
}
|| requires(C& c, State& s) {
    c.on_batch_end(s);
}
|| requires(C& c, State& s) {
    c.on_epoch_end(s);
}
|| requires(C& c, State& s) {
    c.on_train_end(s);
};

} // namespace detail

/// A callback: any object with one or more of the hooks `on_train_begin`, `on_epoch_begin`,
/// `on_batch_end`, `on_epoch_end`, `on_train_end`, each taking `training_state<T>&`.
/// @ingroup model
template <class C, class T>
concept callback = detail::has_any_hook<C, training_state<T>>;

/// Which hook a lambda_callback runs in.
/// @ingroup model
enum class hook { train_begin, epoch_begin, batch_end, epoch_end, train_end };

/// A callback made of one function, run at one hook: for anything the others do not do.
/// @code
/// auto log = xtnn::lambda_callback(xtnn::hook::epoch_end, [](auto& state) {
///     std::cout << state.epoch << " " << state.log("val_loss") << "\n";
/// });
/// trainer.fit(x, y, {.epochs = 3}, log);
/// @endcode
/// @ingroup model
template <class F>
class lambda_callback {
  public:
    /// Runs `f(state)` at `when`.
    lambda_callback(hook when, F f) : when_(when), f_(std::move(f)) {}
    /// Runs f at the start of training if asked to.
    template <class State>
    void on_train_begin(State& s) {
        run(hook::train_begin, s);
    }
    /// Runs f at the start of each epoch if asked to.
    template <class State>
    void on_epoch_begin(State& s) {
        run(hook::epoch_begin, s);
    }
    /// Runs f after each batch if asked to.
    template <class State>
    void on_batch_end(State& s) {
        run(hook::batch_end, s);
    }
    /// Runs f after each epoch if asked to.
    template <class State>
    void on_epoch_end(State& s) {
        run(hook::epoch_end, s);
    }
    /// Runs f at the end of training if asked to.
    template <class State>
    void on_train_end(State& s) {
        run(hook::train_end, s);
    }

  private:
    template <class State>
    void run(hook h, State& s) {
        if (h == when_) {
            f_(s);
        }
    }
    hook when_;
    F f_;
};

} // namespace xtnn
