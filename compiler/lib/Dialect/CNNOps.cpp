//===- CNNOps.cpp - Verifiers of the cnn ops ------------------------------===//
//
// Verifiers check what the attributes must satisfy on their own (the types
// and bounds of the layer's parameters, LayerAttributes.h) and, once shapes
// are known, that every result and parameter has the shape the layer
// arithmetic gives. They accept unranked values: shape inference fills those
// in.
//
//===----------------------------------------------------------------------===//
#include "OpShapes.h"
#include "cnnc/Dialect/CNN/LayerAttributes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace cnnc::cnn;

namespace {

LogicalResult verifyLayer(Operation *op) {
  if (failed(verifyLayerAttributes(op)))
    return failure();
  return verifyShapes(op);
}

} // namespace

template <typename LayerOp> static LogicalResult verify(LayerOp op) {
  return verifyLayer(op.getOperation());
}

static LogicalResult verify(Conv2DOp op) {
  if (op.table() && op.groups() != 1)
    return op.emitOpError("a connection table requires groups = 1");
  return verifyLayer(op);
}

static LogicalResult verify(AugmentOp op) {
  // The runtime writes the caller's batch straight into the augmented tensor
  // when augmentation is off: nothing else may read the raw input.
  if (!op.input().isa<BlockArgument>() || !op.input().hasOneUse())
    return op.emitOpError("must read a function argument that nothing else reads");
  return verifyLayer(op);
}

static LogicalResult verify(ReturnOp op) {
  if (op.names().size() != op.outputs().size())
    return op.emitOpError() << "has " << op.outputs().size() << " outputs but " << op.names().size()
                            << " names";
  auto func = op->getParentOfType<FuncOp>();
  auto results = func.getType().getResults();
  if (results.size() != op.outputs().size())
    return op.emitOpError() << "returns " << op.outputs().size() << " values but the function has "
                            << results.size() << " results";
  return success();
}

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.cpp.inc"
