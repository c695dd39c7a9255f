//===- Passes.h - cnnc's passes on the cnn dialect -------------*- C++ -*-===//
#ifndef CNNC_TRANSFORMS_PASSES_H
#define CNNC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace cnnc {

std::unique_ptr<mlir::Pass> createShapeInferencePass();
std::unique_ptr<mlir::Pass> createMaterializeProjectionsPass();
std::unique_ptr<mlir::Pass> createPrintReportPass();

/// The frontend pipeline after MLIRGen: shape inference, projections, and
/// shape inference again for the ops they add.
void buildShapePipeline(mlir::OpPassManager &pm);

#define GEN_PASS_REGISTRATION
#include "cnnc/Transforms/Passes.h.inc"

} // namespace cnnc

#endif // CNNC_TRANSFORMS_PASSES_H
