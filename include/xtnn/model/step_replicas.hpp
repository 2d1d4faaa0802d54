/// @file
/// The copies of a model on which fit's threads run a training step's groups at once: each
/// thread takes its own groups through the whole layer chain on a copy of its own, and the
/// copies' gradients are added once per step (see trainer::fit).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtnn/core/parallel.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/random.hpp>
#include <xtnn/core/visit.hpp>

namespace xtnn::detail {

/// A model's random engines, as collect_random_streams gives them.
using random_streams = std::vector<std::pair<std::string, random_engine*>>;

/// The copies of `Model` on which the parts of a step after the first run (part 0 runs on the
/// model itself), and what keeps them equal to the model: its parameter values before every
/// step, random engines placed where one thread would draw their parts' groups, and their
/// gradients added into the model's, in part order, after the step.
///
/// To place a copy's engines, what a group draws must be known: a layer that trains by
/// samples draws the same number of raw values for every group of a size (xtnn's dropout and
/// random_affine: a fixed count per element or per sample). Each fit's first step of a group
/// size runs part 0's first group alone and counts its draws (count, placed); the rest runs
/// at once. A step whose parts then drew other than that count (a layer breaking the rule)
/// makes every later step run its parts in turn on the calling thread, each copy's engines
/// taking over from the part before (follow): the draws of one thread. At once or in turn,
/// the parts compute the same sums in the same order: the same bits.
template <class Model>
class step_replicas {
  public:
    using value_type = typename Model::value_type; ///< The model's scalar type.

    /// Whether a step's groups run on copies: for a model that can be copied and holds layers
    /// that split the batch over xtnn's threads (convolutions, pooling); a dense model's
    /// threads are BLAS's, inside each group's products.
    static constexpr bool possible = std::is_copy_constructible_v<Model> && splits_batch_v<Model>;

    /// The threads a step of `groups` groups runs on: one per group at most and
    /// num_threads() at most.
    std::size_t threads(std::size_t groups) const {
        return groups < 2 ? 1 : std::min(num_threads(), groups);
    }

    /// Readies the copies for a step split as `split` into parts of groups of `group` samples
    /// (made at the first step) and says whether the parts may run at once, their engines
    /// placed (see placed); false when a group's draws are still to be counted (count
    /// them: before_count and after_count around part 0's first group, then placed) or the
    /// parts run in turn.
    bool prepare(Model& model, const random_streams& streams, const partition& split,
                 std::size_t group) {
        if constexpr (possible) {
            while (copies_.size() + 1 < split.parts) {
                copies_.emplace_back(model);
                auto& copy = copies_.back();
                parameters_.push_back(copy.parameters());
                streams_of_.push_back(collect_random_streams(copy));
            }
        }
        started_.clear();
        for (const auto& [name, engine] : streams) {
            started_.push_back(engine->draws());
        }
        return placed(streams, split, group, 0);
    }

    /// Whether the step's parts run at once once part 0's first `done` groups have run: then
    /// each copy's engines are the model's, moved past the draws of the groups before its
    /// part's first.
    bool placed(const random_streams& streams, const partition& split, std::size_t group,
                std::size_t done) {
        const auto it = std::find_if(known_.begin(), known_.end(),
                                     [&](const auto& k) { return k.first == group; });
        per_group_ = it == known_.end() ? nullptr : &it->second;
        at_once_ = streams.empty() || (fixed_ && per_group_ != nullptr);
        if (at_once_) {
            for (std::size_t p = 1; p < split.parts; ++p) {
                for (std::size_t s = 0; s < streams.size(); ++s) {
                    random_engine& engine = *streams_of_[p - 1][s].second;
                    engine = *streams[s].second;
                    engine.skip((split.begin(p) - done) * (*per_group_)[s]);
                }
            }
        }
        return at_once_;
    }

    /// Whether the step's draws per group are to be counted (before placed can place them).
    bool counting() const { return fixed_ && per_group_ == nullptr; }

    /// Before part `p` of a step run in turn: its copy's engines continue from where the
    /// part before left its own.
    void follow(const random_streams& streams, std::size_t p) {
        if (p == 0) {
            return;
        }
        for (std::size_t s = 0; s < streams.size(); ++s) {
            *streams_of_[p - 1][s].second =
                p == 1 ? *streams[s].second : *streams_of_[p - 2][s].second;
        }
    }

    /// Part `p`'s model: the model itself for part 0, a copy after.
    Model& model(Model& model, std::size_t p) { return p == 0 ? model : copies_[p - 1]; }

    /// Part `p`'s parameter views (`params`, the model's, for part 0).
    std::span<parameter_view<value_type>> parameters(std::span<parameter_view<value_type>> params,
                                                     std::size_t p) {
        return p == 0 ? params : std::span(parameters_[p - 1]);
    }

    /// Gives part `p`'s copy the model's parameter values `params` (from part p's thread: the
    /// copies are written in parallel while the model's values are only read).
    void sync(std::span<const parameter_view<value_type>> params, std::size_t p) {
        if (p == 0) {
            return;
        }
        auto& mine = parameters_[p - 1];
        for (std::size_t i = 0; i < params.size(); ++i) {
            std::copy(params[i].value.begin(), params[i].value.end(), mine[i].value.begin());
        }
    }

    /// Before the group whose draws are counted: where the engines are.
    void before_count(const random_streams& streams) {
        counting_.clear();
        for (const auto& [name, engine] : streams) {
            counting_.push_back(engine->draws());
        }
    }

    /// After it: what each group of `group` samples draws; a group that leaves half of a
    /// normal() pair makes the parts run in turn.
    void after_count(const random_streams& streams, std::size_t group) {
        std::vector<std::uint64_t> drawn(streams.size());
        for (std::size_t s = 0; s < streams.size(); ++s) {
            drawn[s] = streams[s].second->draws() - counting_[s];
            fixed_ = fixed_ && !streams[s].second->holds_spare();
        }
        known_.emplace_back(group, std::move(drawn));
    }

    /// After a step split as `split`: adds the copies' gradients into the model's `params`
    /// (in part order) and moves the model's engines to where the last part left its own,
    /// where one thread would have left them. A step run at once whose parts drew other than
    /// their groups' count makes the later steps run in turn.
    void finish(std::span<parameter_view<value_type>> params, const random_streams& streams,
                const partition& split) {
        for (std::size_t p = 1; p < split.parts; ++p) {
            const auto& theirs = parameters_[p - 1];
            for (std::size_t i = 0; i < params.size(); ++i) {
                const auto g = params[i].gradient;
                const auto add = theirs[i].gradient;
                for (std::size_t j = 0; j < g.size(); ++j) {
                    g[j] += add[j];
                }
            }
        }
        for (std::size_t s = 0; s < streams.size(); ++s) {
            if (at_once_) {
                const auto per_group = (*per_group_)[s];
                bool equal = streams[s].second->draws() - started_[s] == split.begin(1) * per_group;
                for (std::size_t p = 1; p < split.parts; ++p) {
                    const random_engine& engine = *streams_of_[p - 1][s].second;
                    equal = equal && engine.draws() - started_[s] == split.begin(p + 1) * per_group;
                }
                fixed_ = fixed_ && equal;
            }
            *streams[s].second = *streams_of_[split.parts - 2][s].second;
        }
    }

  private:
    std::deque<Model> copies_; // a deque: parameters_ and streams_of_ view them; never moved
    std::vector<std::vector<parameter_view<value_type>>> parameters_;
    std::vector<random_streams> streams_of_;
    bool fixed_ = true;   // every part has drawn its groups' count so far
    bool at_once_ = true; // the step being run runs its parts at once
    std::vector<std::pair<std::size_t, std::vector<std::uint64_t>>> known_; // draws per group
    const std::vector<std::uint64_t>* per_group_ = nullptr;                 // the step's, if known
    std::vector<std::uint64_t> started_, counting_;
};

} // namespace xtnn::detail
