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
#include "cnnc/DSL/Limits.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"
#include "cnnc/Transforms/Passes.h"

#include <optional>

using namespace mlir;

namespace cnnc {
#define GEN_PASS_CLASSES
#include "cnnc/Transforms/Passes.h.inc"

namespace {

/// The values of `type` (per sample when its first dimension is the
/// dynamic batch), or nullopt past kMaxSize (Limits.h).
std::optional<int64_t> valuesWithinLimit(Type type) {
  auto ranked = type.dyn_cast<RankedTensorType>();
  if (!ranked)
    return 0;
  int64_t n = 1;
  for (int64_t d : ranked.getShape())
    if (!ShapedType::isDynamic(d) && (__builtin_mul_overflow(n, d, &n) || n > kMaxSize))
      return std::nullopt;
  return n;
}

/// Checked where every shape is first known, so that the error points at
/// the layer (not at Halide's constant folding, much later).
LogicalResult checkSizes(Operation *op) {
  auto tooLarge = [&](Value v, const std::string &what) {
    std::string dims;
    for (int64_t d : v.getType().cast<RankedTensorType>().getShape())
      dims += (dims.empty() ? "" : "x") + (ShapedType::isDynamic(d) ? "N" : std::to_string(d));
    op->emitError("`") << cnn::layerName(op) << "`: " << what << " " << dims << " holds more than "
                       << kMaxSize << " values (generated code indexes with 32-bit integers)";
    return failure();
  };
  for (Value r : op->getResults())
    if (!valuesWithinLimit(r.getType()))
      return tooLarge(r, "its output");
  for (Value v : op->getOperands())
    if (auto param = v.getDefiningOp<cnn::ParamOp>())
      if (!valuesWithinLimit(v.getType()))
        return tooLarge(v, "its parameter `" + param.name().str() + "`");
  return success();
}

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
      if (failed(op.inferShapes()) || failed(checkSizes(operation)))
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
