//===- Activations.cpp - The table of activations -------------------------===//
#include "Activations.h"

#include <iterator>

using namespace Halide;

namespace cnnc::halide {

using plan::Activation;

namespace {

/// e^x through Halide's polynomial fast_exp (vectorizes; its last ~5
/// mantissa bits are inexact), clamped where it would overflow. Halide's
/// tanh() made LeNet-5's first conv 5x slower than with relu.
Expr vectorExp(Expr x) { return fast_exp(clamp(x, -87.0f, 87.0f)); }

struct ActivationRule {
  Activation act;
  Expr (*value)(Expr x, float slope);
  Expr (*derivative)(Expr y, float slope);
};

// In plan::Activation's order (checked below). Derivatives follow PyTorch:
// relu's is 0 at 0.
constexpr ActivationRule kRules[] = {
    {Activation::None, [](Expr x, float) { return x; }, [](Expr, float) { return Expr(1.0f); }},
    {Activation::ReLU, [](Expr x, float) { return max(x, 0.0f); },
     [](Expr y, float) { return select(y > 0.0f, 1.0f, 0.0f); }},
    {Activation::LeakyReLU, [](Expr x, float slope) { return select(x >= 0.0f, x, x * slope); },
     [](Expr y, float slope) { return select(y > 0.0f, 1.0f, slope); }},
    {Activation::Sigmoid, [](Expr x, float) { return 1.0f / (1.0f + vectorExp(-x)); },
     [](Expr y, float) { return y * (1.0f - y); }},
    // 1 - 2 / (e^2x + 1), and x - x^3 / 3 near 0 where it would cancel.
    {Activation::Tanh,
     [](Expr x, float) {
       Expr big = 1.0f - 2.0f / (vectorExp(2.0f * x) + 1.0f);
       return select(abs(x) < 0.004f, x - x * x * x * (1.0f / 3.0f), big);
     },
     [](Expr y, float) { return 1.0f - y * y; }},
};

constexpr bool rulesInEnumOrder() {
  for (size_t i = 0; i < std::size(kRules); ++i)
    if (static_cast<size_t>(kRules[i].act) != i)
      return false;
  return std::size(kRules) == plan::kNumActivations;
}
static_assert(rulesInEnumOrder(), "one rule per plan::Activation, in its order");

const ActivationRule &rule(Activation act) { return kRules[static_cast<size_t>(act)]; }

} // namespace

Expr activate(Expr x, Activation act, double slope) {
  return rule(act).value(x, static_cast<float>(slope));
}

Expr activationDerivative(Expr y, Activation act, double slope) {
  return rule(act).derivative(y, static_cast<float>(slope));
}

} // namespace cnnc::halide
