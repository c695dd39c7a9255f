//===- Activations.cpp - The table of activations -------------------------===//
#include "Activations.h"

#include <cmath>
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

/// tanh: 1 - 2 / (e^2x + 1), and x - x^3 / 3 near 0 where it would cancel.
Expr tanhOf(Expr x) {
  Expr big = 1.0f - 2.0f / (vectorExp(2.0f * x) + 1.0f);
  return select(abs(x) < 0.004f, x - x * x * x * (1.0f / 3.0f), big);
}

// GELU's tanh approximation: tanh(sqrt(2 / pi) (x + 0.044715 x^3)).
constexpr float kGeluBeta = float(M_SQRT2 * M_2_SQRTPI * 0.5);
constexpr float kGeluKappa = 0.044715f;
Expr geluTanh(Expr x) { return tanhOf(kGeluBeta * (x + kGeluKappa * x * x * x)); }

/// `value` and `derivative` read the activation layer's parameters from its
/// op (unused by the parameterless ones). `derivative` is given y or x, as
/// the activation's row of LayerKinds.def says.
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
     // From y, or from x when the slope is negative (plan::derivativeFrom):
     // the same test.
     [](Expr v, const Op &op) { return select(v > 0.0f, 1.0f, f32(op.slope)); }},
    {Activation::Sigmoid, [](Expr x, const Op &) { return 1.0f / (1.0f + vectorExp(-x)); },
     [](Expr y, const Op &) { return y * (1.0f - y); }},
    {Activation::Tanh, [](Expr x, const Op &) { return tanhOf(x); },
     [](Expr y, const Op &) { return 1.0f - y * y; }},
    // The hard functions' derivatives are 0 at the kinks, as PyTorch's.
    {Activation::ReLU6, [](Expr x, const Op &) { return clamp(x, 0.0f, 6.0f); },
     [](Expr y, const Op &) { return select(y > 0.0f && y < 6.0f, 1.0f, 0.0f); }},
    {Activation::Hardtanh,
     [](Expr x, const Op &op) { return clamp(x, f32(op.min_val), f32(op.max_val)); },
     [](Expr y, const Op &op) {
       return select(y > f32(op.min_val) && y < f32(op.max_val), 1.0f, 0.0f);
     }},
    {Activation::Hardsigmoid, [](Expr x, const Op &) { return clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f; },
     [](Expr y, const Op &) { return select(y > 0.0f && y < 1.0f, 1.0f / 6.0f, 0.0f); }},
    // From x (LayerKinds.def): x * relu6(x + 3) / 6 is not monotonic.
    {Activation::Hardswish,
     [](Expr x, const Op &) { return x * clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f; },
     [](Expr x, const Op &) { return select(x < -3.0f, 0.0f, x <= 3.0f, x / 3.0f + 0.5f, 1.0f); }},
    // From x: x * sigmoid(x); s (1 + x (1 - s)).
    {Activation::SiLU, [](Expr x, const Op &) { return x / (1.0f + vectorExp(-x)); },
     [](Expr x, const Op &) {
       Expr s = 1.0f / (1.0f + vectorExp(-x));
       return s * (1.0f + x * (1.0f - s));
     }},
    // From x: x Phi(x) (Halide's erf is exact to the last bits), or
    // PyTorch's tanh approximation; the derivatives are PyTorch's.
    {Activation::GELU,
     [](Expr x, const Op &op) {
       if (op.approximate == "tanh")
         return 0.5f * x * (1.0f + geluTanh(x));
       return 0.5f * x * (1.0f + erf(x * float(M_SQRT1_2)));
     },
     [](Expr x, const Op &op) {
       if (op.approximate == "tanh") {
         Expr t = geluTanh(x);
         Expr inner = kGeluBeta * (1.0f + 3.0f * kGeluKappa * x * x);
         return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * inner;
       }
       Expr cdf = 0.5f * (1.0f + erf(x * float(M_SQRT1_2)));
       Expr pdf = vectorExp(-0.5f * x * x) * float(0.5 * M_2_SQRTPI * M_SQRT1_2);
       return cdf + x * pdf;
     }},
    // From x, so that any alpha is exact (y does not give x's sign when
    // alpha < 0).
    {Activation::ELU,
     [](Expr x, const Op &op) {
       return select(x > 0.0f, x, f32(op.alpha) * (vectorExp(x) - 1.0f));
     },
     [](Expr x, const Op &op) { return select(x > 0.0f, 1.0f, f32(op.alpha) * vectorExp(x)); }},
    {Activation::Scale, [](Expr x, const Op &op) { return f32(op.factor) * x; },
     [](Expr, const Op &op) { return Expr(f32(op.factor)); }},
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
