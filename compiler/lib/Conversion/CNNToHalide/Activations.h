//===- Activations.h - Each activation's value and derivative ---*- C++ -*-===//
//
// One table (Activations.cpp) gives each fused activation of the plan
// (plan::Activation: the Activation family of LayerKinds.def) its value
// f(x) and its derivative written in terms of the output y = f(x), which is
// what the training step keeps. The forward algorithms (a standalone
// activation and the epilogues of conv, dense, batchnorm and add) and the
// backward pass read only this table.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_CNNTOHALIDE_ACTIVATIONS_H
#define CNNC_CONVERSION_CNNTOHALIDE_ACTIVATIONS_H

#include "cnnc/Codegen/ModelPlan.h"

#include "Halide.h"

namespace cnnc::halide {

/// An activation as a step applies it: its kind, and the layer it comes
/// from, whose attributes are its parameters (leaky_relu's slope); nullptr
/// for None.
struct ActivationLayer {
  plan::Activation kind = plan::Activation::None;
  const plan::Op *op = nullptr;
};

/// f(x).
Halide::Expr activate(Halide::Expr x, const ActivationLayer &act);

/// f'(x) from y = f(x).
Halide::Expr activationDerivative(Halide::Expr y, const ActivationLayer &act);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_ACTIVATIONS_H
