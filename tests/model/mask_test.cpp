// Padding masks: a padded batch gives every sequence exactly what it gives alone, through
// layers that read, pass, consume and make masks, nested models and residual blocks.
#include <cmath>
#include <string_view>

#include <catch2/catch.hpp>

#include <xtnn/xtnn.hpp>

#include "support/helpers.hpp"

namespace {

using seq = xtnn::tensor<double, 3>;

// A recurrent-like layer that reads masks: y[t] = y[t-1] + x[t] at real steps; at padded steps
// the state carries (y[t] = y[t-1]) and nothing flows back.
struct running_sum : xtnn::layer_base<running_sum, double, 3, 3> {
    static constexpr std::string_view name = "running_sum";
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::reads;
    xtnn::shape<3> output_shape(const xtnn::shape<3>& s) const { return s; }

  private:
    friend xtnn::layer_access;
    static bool real(const xtnn::sequence_mask* mask, std::size_t b, std::size_t t) {
        return mask == nullptr || (*mask)(b, t) != 0;
    }
    void compute_forward(const seq& x, seq& y, xtnn::mode,
                         const xtnn::sequence_mask* mask = nullptr) {
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            for (std::size_t t = 0; t < x.shape()[1]; ++t) {
                for (std::size_t f = 0; f < x.shape()[2]; ++f) {
                    const double before = t == 0 ? 0.0 : y(b, t - 1, f);
                    y(b, t, f) = before + (real(mask, b, t) ? x(b, t, f) : 0.0);
                }
            }
        }
    }
    void compute_backward(const seq& x, const seq&, const seq& dy, seq* dx,
                          const xtnn::sequence_mask* mask = nullptr) {
        if (dx == nullptr) {
            return;
        }
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            for (std::size_t f = 0; f < x.shape()[2]; ++f) {
                double carried = 0; // d(loss)/d(y[t]) summed over t' >= t
                for (std::size_t t = x.shape()[1]; t-- > 0;) {
                    carried += dy(b, t, f);
                    (*dx)(b, t, f) = real(mask, b, t) ? carried : 0.0;
                }
            }
        }
    }
};

// Pooling over time that consumes masks: the mean of the real steps.
struct step_mean : xtnn::layer_base<step_mean, double, 3, 2> {
    static constexpr std::string_view name = "step_mean";
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::consumes;
    xtnn::shape<2> output_shape(const xtnn::shape<3>& s) const { return {s[0], s[2]}; }

  private:
    friend xtnn::layer_access;
    static double steps(const xtnn::sequence_mask* mask, std::size_t b, std::size_t time) {
        if (mask == nullptr) {
            return static_cast<double>(time);
        }
        double n = 0;
        for (std::size_t t = 0; t < time; ++t) {
            n += (*mask)(b, t) != 0 ? 1 : 0;
        }
        return n;
    }
    void compute_forward(const seq& x, xtnn::tensor<double, 2>& y, xtnn::mode,
                         const xtnn::sequence_mask* mask = nullptr) {
        y.fill(0);
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            const double n = steps(mask, b, x.shape()[1]);
            for (std::size_t t = 0; t < x.shape()[1]; ++t) {
                for (std::size_t f = 0; f < x.shape()[2]; ++f) {
                    if (mask == nullptr || (*mask)(b, t) != 0) {
                        y(b, f) += x(b, t, f) / n;
                    }
                }
            }
        }
    }
    void compute_backward(const seq& x, const xtnn::tensor<double, 2>&,
                          const xtnn::tensor<double, 2>& dy, seq* dx,
                          const xtnn::sequence_mask* mask = nullptr) {
        for (std::size_t b = 0; dx != nullptr && b < x.shape()[0]; ++b) {
            const double n = steps(mask, b, x.shape()[1]);
            for (std::size_t t = 0; t < x.shape()[1]; ++t) {
                for (std::size_t f = 0; f < x.shape()[2]; ++f) {
                    const bool real = mask == nullptr || (*mask)(b, t) != 0;
                    (*dx)(b, t, f) = real ? dy(b, f) / n : 0.0;
                }
            }
        }
    }
};

// Makes the mask from its input: a step whose features are all zero is padding.
struct zeros_are_padding : xtnn::layer_base<zeros_are_padding, double, 3, 3> {
    static constexpr std::string_view name = "zeros_are_padding";
    static constexpr xtnn::mask_use mask_use = xtnn::mask_use::makes;
    xtnn::shape<3> output_shape(const xtnn::shape<3>& s) const { return s; }
    void make_mask(const seq& x, xtnn::sequence_mask& mask) const {
        mask.resize({x.shape()[0], x.shape()[1]});
        for (std::size_t b = 0; b < x.shape()[0]; ++b) {
            for (std::size_t t = 0; t < x.shape()[1]; ++t) {
                bool any = false;
                for (std::size_t f = 0; f < x.shape()[2]; ++f) {
                    any = any || x(b, t, f) != 0;
                }
                mask(b, t) = any ? 1 : 0;
            }
        }
    }

  private:
    friend xtnn::layer_access;
    void compute_forward(const seq& x, seq& y, xtnn::mode) const { y = x; }
    void compute_backward(const seq&, const seq&, const seq& dy, seq* dx) const {
        if (dx != nullptr) {
            *dx = dy;
        }
    }
};

constexpr std::size_t lengths[] = {5, 3, 1};

// Three sequences of 5, 3 and 1 steps, padded to 5 with `pad` (garbage or zeros).
seq padded_batch(double pad) {
    seq x = xtnn::test::random_tensor<double>(xtnn::shape<3>{3, 5, 2}, 7, 0.1, 1.0);
    for (std::size_t b = 0; b < 3; ++b) {
        for (std::size_t t = lengths[b]; t < 5; ++t) {
            x(b, t, 0) = x(b, t, 1) = pad;
        }
    }
    return x;
}

xtnn::sequence_mask mask_of_lengths() {
    xtnn::sequence_mask mask(xtnn::shape<2>{3, 5});
    for (std::size_t b = 0; b < 3; ++b) {
        for (std::size_t t = 0; t < 5; ++t) {
            mask(b, t) = t < lengths[b] ? 1 : 0;
        }
    }
    return mask;
}

// Sequence b of x, alone and unpadded.
seq alone(const seq& x, std::size_t b) {
    seq one(xtnn::shape<3>{1, lengths[b], 2});
    for (std::size_t t = 0; t < lengths[b]; ++t) {
        one(0, t, 0) = x(b, t, 0);
        one(0, t, 1) = x(b, t, 1);
    }
    return one;
}

// The padded batch's outputs and input gradients equal each sequence's alone.
template <class Model, class Run>
void check_each_sequence_alone(Model& model, const seq& x, Run run) {
    const auto [y, dx] = run(model, x, true, 0);
    for (std::size_t b = 0; b < 3; ++b) {
        INFO("sequence " << b);
        const auto [y1, dx1] = run(model, alone(x, b), false, b);
        for (std::size_t f = 0; f < y1.shape()[1]; ++f) {
            CHECK(y(b, f) == Approx(y1(0, f)).epsilon(1e-12));
        }
        for (std::size_t t = 0; t < 5; ++t) {
            for (std::size_t f = 0; f < 2; ++f) {
                CHECK(dx(b, t, f) == Approx(t < lengths[b] ? dx1(0, t, f) : 0.0).margin(1e-12));
            }
        }
    }
}

} // namespace

TEST_CASE("masks: a padded batch gives every sequence what it gives alone", "[model][mask]") {
    xtnn::sequential model{running_sum{}, xtnn::tanh{}, xtnn::dropout{0.0},
                           xtnn::residual{running_sum{}}, step_mean{}};
    STATIC_REQUIRE(decltype(model)::mask_use == xtnn::mask_use::consumes);
    const auto mask = mask_of_lengths();
    const xtnn::tensor<double, 2> dy = xtnn::test::random_tensor<double>(xtnn::shape<2>{3, 2}, 3);
    // (alone, sequence `which` gets its row of the batch's output gradient)
    const auto run = [&](auto& m, const seq& x, bool padded, std::size_t which) {
        xtnn::tensor<double, 2> g(xtnn::shape<2>{x.shape()[0], 2});
        for (std::size_t b = 0; b < g.shape()[0]; ++b) {
            for (std::size_t f = 0; f < 2; ++f) {
                g(b, f) = dy(padded ? b : which, f);
            }
        }
        xtnn::tensor<double, 2> y;
        if (padded) {
            y = m.forward(x, mask, xtnn::mode::training);
            m.backward(x, mask, g, true);
        } else {
            y = m.forward(x, xtnn::mode::training);
            m.backward(x, g, true);
        }
        return std::pair{y, seq(m.input_gradient())};
    };
    check_each_sequence_alone(model, padded_batch(99.0), run);
}

TEST_CASE("masks: a layer that makes the mask, and nested models that read it", "[model][mask]") {
    xtnn::sequential inner{running_sum{}, xtnn::tanh{}};
    STATIC_REQUIRE(decltype(inner)::mask_use == xtnn::mask_use::reads);
    xtnn::sequential model{zeros_are_padding{}, inner, step_mean{}};
    const auto x = padded_batch(0.0);
    const auto y = model.forward(x, xtnn::mode::inference);
    for (std::size_t b = 0; b < 3; ++b) {
        const auto y1 = model.forward(alone(x, b), xtnn::mode::inference);
        CHECK(y(b, 0) == Approx(y1(0, 0)).epsilon(1e-12));
        CHECK(y(b, 1) == Approx(y1(0, 1)).epsilon(1e-12));
    }
    // Without the mask the padding counts: the means differ.
    xtnn::sequential unmasked{running_sum{}, xtnn::tanh{}, step_mean{}};
    CHECK(unmasked.forward(x)(1, 0) != Approx(y(1, 0)));
}

TEST_CASE("masks: a mask of another shape, and backward without the forward's mask",
          "[model][mask]") {
    xtnn::sequential model{running_sum{}, step_mean{}};
    const auto x = padded_batch(0.0);
    const xtnn::sequence_mask wrong(xtnn::shape<2>{3, 4});
    CHECK_THROWS_WITH(model.forward(x, wrong), Catch::Contains("mask shape mismatch") &&
                                                   Catch::Contains("(3, 5)") &&
                                                   Catch::Contains("(3, 4)"));
    const auto mask = mask_of_lengths();
    model.forward(x, mask, xtnn::mode::training);
    const xtnn::tensor<double, 2> dy(xtnn::shape<2>{3, 2});
    CHECK_THROWS_AS(model.backward(x, dy), std::logic_error);
    CHECK_NOTHROW(model.backward(x, mask, dy));
}
