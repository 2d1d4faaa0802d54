/// @file
/// The ONNX form of sequential: its layers' forms one after the other, and pair forms (a
/// convolution with the batch norm an exporter folded into it) where the graph fuses two.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <xtnn/model/sequential.hpp>
#include <xtnn/onnx/graph.hpp>
#include <xtnn/onnx/reader.hpp>
#include <xtnn/onnx/writer.hpp>

namespace xtnn {

/// sequential: layer i reads layer i-1's output; layer i's arrays are "<prefix><i>.<name>".
/// @ingroup onnx
template <class... Specs>
struct onnx_form<sequential<Specs...>> {
    using model = sequential<Specs...>;   ///< The model type.
    using T = typename model::value_type; ///< The scalar type.

    /// Each layer's nodes, in order.
    static std::string emit(onnx_writer<T>& w, model& m, const onnx_place& at,
                            const std::string& x) {
        static_assert(every_layer_has_a_form(std::make_index_sequence<model::size>{}));
        std::string y = x;
        std::size_t i = 0;
        m.visit_children([&]<class L>(std::string_view key, L& layer) {
            if constexpr (has_onnx_form<L>) { // (else the assertion above names it)
                y = w.emit(layer, at.child(key, i), y);
            }
            ++i;
        });
        return y;
    }

    /// Each layer's nodes, in order; two layers with a pair form are tried together first.
    static std::string match(onnx_reader<T>& r, model& m, const onnx_place& at,
                             const std::string& x, std::size_t& rank) {
        static_assert(every_layer_has_a_form(std::make_index_sequence<model::size>{}));
        std::string y = x;
        match_from<0>(r, m, at, y, rank);
        return y;
    }

  private:
    template <std::size_t... I>
    static constexpr bool every_layer_has_a_form(std::index_sequence<I...>) {
        return (detail::onnx_form_at<I, typename model::template layer_type<I>>::value && ...);
    }

    template <std::size_t I>
    static void match_from(onnx_reader<T>& r, model& m, const onnx_place& at, std::string& y,
                           std::size_t& rank) {
        if constexpr (I < model::size) {
            using layer_type = typename model::template layer_type<I>;
            const onnx_place here = at.child(model::key(I), I);
            if constexpr (I + 1 < model::size) {
                using next_type = typename model::template layer_type<I + 1>;
                if constexpr (has_onnx_pair_form<layer_type, next_type>) {
                    if (const auto out = onnx_pair_form<layer_type, next_type>::match(
                            r, m.template layer<I>(), m.template layer<I + 1>(), here,
                            at.child(model::key(I + 1), I + 1), y, rank)) {
                        y = *out;
                        match_from<I + 2>(r, m, at, y, rank);
                        return;
                    }
                }
            }
            if constexpr (has_onnx_form<layer_type>) { // (else the assertion names it)
                y = r.match(m.template layer<I>(), here, y, rank);
            }
            match_from<I + 1>(r, m, at, y, rank);
        }
    }
};

} // namespace xtnn
