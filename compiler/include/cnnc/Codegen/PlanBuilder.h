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

/// Builds the plan of `func` and forms its steps; emits an error on the
/// offending op and fails for what code generation cannot handle.
mlir::FailureOr<plan::ModelPlan> buildPlan(mlir::FuncOp func);

} // namespace cnnc

#endif // CNNC_CODEGEN_PLANBUILDER_H
