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

using plan::Op;

/// `value` and `derivative` read the activation layer's parameters from its
/// op (unused by the parameterless ones).
struct ActivationRule {
  Activation act;
  Expr (*value)(Expr x, const Op &op);
  Expr (*derivative)(Expr y, const Op &op);
};

float f32(double v) { return static_cast<float>(v); }

// In plan::Activation's order (checked below). Derivatives follow PyTorch:
// relu's is 0 at 0.
constexpr ActivationRule kRules[] = {
    {Activation::None, [](Expr x, const Op &) { return x; },
     [](Expr, const Op &) { return Expr(1.0f); }},
    {Activation::ReLU, [](Expr x, const Op &) { return max(x, 0.0f); },
     [](Expr y, const Op &) { return select(y > 0.0f, 1.0f, 0.0f); }},
    {Activation::LeakyReLU,
     [](Expr x, const Op &op) { return select(x >= 0.0f, x, x * f32(op.slope)); },
     [](Expr y, const Op &op) { return select(y > 0.0f, 1.0f, f32(op.slope)); }},
    {Activation::Sigmoid, [](Expr x, const Op &) { return 1.0f / (1.0f + vectorExp(-x)); },
     [](Expr y, const Op &) { return y * (1.0f - y); }},
    // 1 - 2 / (e^2x + 1), and x - x^3 / 3 near 0 where it would cancel.
    {Activation::Tanh,
     [](Expr x, const Op &) {
       Expr big = 1.0f - 2.0f / (vectorExp(2.0f * x) + 1.0f);
       return select(abs(x) < 0.004f, x - x * x * x * (1.0f / 3.0f), big);
     },
     [](Expr y, const Op &) { return 1.0f - y * y; }},
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

namespace {
const Op &paramsOf(const ActivationLayer &act) {
  static const Op none;
  return act.op ? *act.op : none;
}
} // namespace

Expr activate(Expr x, const ActivationLayer &act) { return rule(act.kind).value(x, paramsOf(act)); }

Expr activationDerivative(Expr y, const ActivationLayer &act) {
  return rule(act.kind).derivative(y, paramsOf(act));
}

} // namespace cnnc::halide
