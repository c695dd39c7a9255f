//===- ShapeInference.cpp - Infer every shape of a network ----------------===//
//
// Contract: the function's arguments are ranked; cnn ops are in dominance
// order (as MLIRGen and the parser guarantee). The pass visits the ops in
// order and asks each op whose result is still unranked to infer it through
// the ShapeInference interface; the first shape error stops the pass (a later
// layer's error would only be a consequence). Finally the function's result
// types are set from `cnn.return`.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Transforms/Passes.h"

using namespace mlir;

namespace cnnc {
#define GEN_PASS_CLASSES
#include "cnnc/Transforms/Passes.h.inc"

namespace {

struct ShapeInferencePass : public ShapeInferenceBase<ShapeInferencePass> {
  void runOnOperation() override {
    FuncOp func = getOperation();
    WalkResult result = func.walk([&](cnn::ShapeInference op) {
      Operation *operation = op.getOperation();
      if (operation->getResult(0).getType().isa<RankedTensorType>())
        return WalkResult::advance();
      for (Value v : operation->getOperands())
        if (!cnn::isParam(v) && !v.getType().isa<RankedTensorType>()) {
          operation->emitError("cannot infer the shape of `")
              << cnn::layerName(operation) << "`: an input has no known shape";
          return WalkResult::interrupt();
        }
      if (failed(op.inferShapes()))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    // The function type follows its return.
    Block &entry = func.getBody().front();
    auto ret = dyn_cast<cnn::ReturnOp>(entry.getTerminator());
    if (!ret)
      return;
    func.setType(
        FunctionType::get(func.getContext(), func.getType().getInputs(), ret.outputs().getTypes()));
  }
};

} // namespace

std::unique_ptr<Pass> createShapeInferencePass() { return std::make_unique<ShapeInferencePass>(); }

} // namespace cnnc
