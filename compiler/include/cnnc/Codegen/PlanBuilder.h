//===- PlanBuilder.h - From a cnn func to a model plan ---------*- C++ -*-===//
//
// Expects a func on which the shape pipeline has run: every tensor type is
// ranked with a dynamic batch and static C, H, W; `same` padding is resolved;
// `project` ops are materialized. Dropout becomes an alias of its input (it
// is the identity at inference).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_PLANBUILDER_H
#define CNNC_CODEGEN_PLANBUILDER_H

#include "cnnc/Codegen/ModelPlan.h"

#include "mlir/Support/LogicalResult.h"

namespace mlir {
class FuncOp;
} // namespace mlir

namespace cnnc {

struct PlanOptions {
  /// Concat inputs written into their slice of the output
  /// (ConcatInPlace.cpp); off where the device cannot address a slice.
  bool concatsInPlace = true;
};

/// Builds the plan of `func` and forms its steps; emits an error on the
/// offending op and fails for what code generation cannot handle.
mlir::FailureOr<plan::ModelPlan> buildPlan(mlir::FuncOp func, const PlanOptions &options = {});

} // namespace cnnc

#endif // CNNC_CODEGEN_PLANBUILDER_H
