/// @file
/// monitor: which logged value a callback watches, and what counts as an improvement.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/saved_state.hpp>

namespace xtnn {

/// Whether a watched value should go down or up.
/// @ingroup model
enum class monitor_mode {
    automatic, ///< up for names containing "acc", down otherwise (losses)
    min,       ///< lower is better
    max        ///< higher is better
};

namespace detail {

/// The shared logic of early_stopping, model_checkpoint and reduce_on_plateau.
class monitor {
  public:
    monitor(std::string name, monitor_mode mode, double min_delta, std::string_view owner)
        : name_(std::move(name)), min_delta_(min_delta) {
        require_option(min_delta >= 0, std::string(owner), "min_delta", ">= 0", min_delta);
        maximize_ = mode == monitor_mode::max ||
                    (mode == monitor_mode::automatic && name_.find("acc") != std::string::npos);
        reset();
    }
    const std::string& name() const { return name_; }
    void reset() {
        best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
    }
    double best() const { return best_; }
    /// Reads the watched value from the state's logs; throws if it is not logged.
    template <class State>
    double read(const State& s, std::string_view owner) const {
        const double v = s.log(name_);
        if (std::isnan(v)) {
            std::string known;
            for (const auto& entry : s.logs) {
                known += (known.empty() ? "" : ", ") + entry.name;
            }
            throw config_error(std::string(owner) + ": no logged value '" + name_ +
                               "' (logs: " + known + "); validate to watch val_ values");
        }
        return v;
    }
    /// Puts the best value into `s`.
    void save_state(saved_state& s) const { s.put("best", best_); }
    /// Continues from a save_state().
    void load_state(const saved_state& s) { s.get("best", best_); }
    /// Whether v beats the best by more than min_delta; records it if so.
    bool improves(double v) {
        const bool better = maximize_ ? v > best_ + min_delta_ : v < best_ - min_delta_;
        if (better) {
            best_ = v;
        }
        return better;
    }

  private:
    std::string name_;
    double min_delta_;
    bool maximize_ = false;
    double best_ = 0;
};

} // namespace detail
} // namespace xtnn
