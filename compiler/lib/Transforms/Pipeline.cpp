//===- Pipeline.cpp - The frontend pass pipeline --------------------------===//
#include "cnnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace cnnc {

void buildShapePipeline(mlir::OpPassManager &pm) {
  mlir::OpPassManager &func = pm.nest<mlir::FuncOp>();
  func.addPass(createShapeInferencePass());
  func.addPass(createMaterializeProjectionsPass());
}

} // namespace cnnc
