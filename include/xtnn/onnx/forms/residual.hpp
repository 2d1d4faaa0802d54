/// @file
/// The ONNX form of residual: the block's nodes, the projection's, and an Add.
#pragma once

#include <cstddef>
#include <string>

#include <xtnn/core/errors.hpp>
#include <xtnn/layers/residual.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// residual: `Add(shortcut, f(x))`, the shortcut being x or the projection's nodes.
/// @ingroup onnx
template <class Block, class Projection>
struct onnx_form<residual<Block, Projection>> {
    using layer = residual<Block, Projection>; ///< The layer type.
    using T = typename layer::value_type;      ///< The scalar type.
    /// Whether the shortcut has a projection.
    static constexpr bool projected = !std::same_as<Projection, detail::no_projection>;

    /// The block's nodes, the projection's, then Add.
    static std::string emit(onnx_writer<T>& w, layer& l, const onnx_place& at,
                            const std::string& x) {
        const std::string f = w.emit(l.block(), at.child("", 0), x);
        std::string shortcut = x;
        if constexpr (projected) {
            shortcut = w.emit(l.projection(), at.child("projection", 1), x);
        }
        return w.node("Add", at.prefix, {shortcut, f});
    }

    /// Both paths read x and their first nodes may look alike (two Gemms of one shape): the
    /// block first, and if that fails, the projection first.
    static std::string match(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        if constexpr (!projected) {
            return paths(r, l, at, x, rank, false);
        } else {
            const auto saved = r.save();
            try {
                return paths(r, l, at, x, rank, false);
            } catch (const io_error&) {
                r.restore(saved);
                try {
                    return paths(r, l, at, x, rank, true);
                } catch (const io_error&) {
                    r.restore(saved);
                }
                return paths(r, l, at, x, rank, false); // throws the first error
            }
        }
    }

  private:
    static std::string paths(onnx_reader<T>& r, layer& l, const onnx_place& at,
                             const std::string& x, std::size_t& rank, bool projection_first) {
        std::size_t block_rank = rank, shortcut_rank = rank;
        std::string f, shortcut = x;
        const auto block = [&] { f = r.match(l.block(), at.child("", 0), x, block_rank); };
        const auto project = [&] {
            if constexpr (projected) {
                shortcut = r.match(l.projection(), at.child("projection", 1), x, shortcut_rank);
            }
        };
        if (projection_first) {
            project();
            block();
        } else {
            block();
            project();
        }
        rank = block_rank;
        const int add = r.binary("Add", shortcut, f);
        if (add < 0) {
            throw r.error(onnx_layer_text(l, at) + ": expected an Add node of '" + shortcut +
                          "' and '" + f + "' (x + f(x)); none in the graph");
        }
        return r.take(add);
    }
};

} // namespace xtnn
