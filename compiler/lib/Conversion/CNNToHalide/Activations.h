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

/// f(x); `slope` is leaky_relu's.
Halide::Expr activate(Halide::Expr x, plan::Activation act, double slope);

/// f'(x) from y = f(x).
Halide::Expr activationDerivative(Halide::Expr y, plan::Activation act, double slope);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_ACTIVATIONS_H
