//===- CNNOps.cpp - Verifiers of the cnn ops ------------------------------===//
//
// Verifiers check what the attributes must satisfy on their own (positive
// kernels, non-negative padding, known padding modes) and, once shapes are
// known, that every result and parameter has the shape the layer arithmetic
// gives. They accept unranked values: shape inference fills those in.
//
//===----------------------------------------------------------------------===//
#include "OpShapes.h"
#include "cnnc/DSL/PadMode.h"

#include "mlir/IR/Builders.h"

#include <sstream>

using namespace mlir;
using namespace cnnc::cnn;

namespace {

LogicalResult checkInts(Operation *op, StringRef attrName, size_t count, int64_t min) {
  auto attr = op->getAttrOfType<ArrayAttr>(attrName);
  if (!attr)
    return success();
  auto values = getInts(attr);
  if (values.size() != count || values.size() != attr.size())
    return op->emitOpError() << "`" << attrName << "` must have " << count << " integers";
  for (int64_t v : values)
    if (v < min)
      return op->emitOpError() << "`" << attrName << "` entries must be at least " << min
                               << ", got " << v;
  return success();
}

LogicalResult checkPositive(Operation *op, StringRef attrName) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(attrName))
    if (attr.getInt() < 1)
      return op->emitOpError() << "`" << attrName << "` must be at least 1, got " << attr.getInt();
  return success();
}

LogicalResult verifyLayer(Operation *op) {
  if (failed(checkInts(op, "kernel", 2, 1)) || failed(checkInts(op, "stride", 2, 1)) ||
      failed(checkInts(op, "dilation", 2, 1)) || failed(checkInts(op, "padding", 4, 0)) ||
      failed(checkPositive(op, "filters")) || failed(checkPositive(op, "groups")) ||
      failed(checkPositive(op, "units")) || failed(checkPositive(op, "size")) ||
      failed(checkPositive(op, "in_features")))
    return failure();
  return verifyShapes(op);
}

} // namespace

template <typename LayerOp> static LogicalResult verify(LayerOp op) {
  return verifyLayer(op.getOperation());
}

static LogicalResult verify(Conv2DOp op) {
  StringRef mode = op.pad_mode();
  if (!cnnc::padModeNamed(mode))
    return op.emitOpError() << "unknown pad_mode `" << mode << "`; expected "
                            << cnnc::padModeChoices();
  if (auto table = op.table()) {
    if (op.groups() != 1)
      return op.emitOpError("a connection table requires groups = 1");
    for (Attribute row : *table) {
      auto ints = row.dyn_cast<ArrayAttr>();
      if (!ints || ints.empty() || getInts(ints).size() != ints.size())
        return op.emitOpError("table rows must be non-empty lists of channel indices");
      for (int64_t c : getInts(ints))
        if (c < 0)
          return op.emitOpError("table channel indices must not be negative");
    }
  }
  return verifyLayer(op);
}

static LogicalResult verify(DropoutOp op) {
  double p = op.p().convertToDouble();
  if (!(p >= 0 && p < 1))
    return op.emitOpError() << "p must be in [0, 1), got " << p;
  return verifyLayer(op);
}

/// `v` as the .cnn file would write it (90, 1.2), not in exponent form.
static std::string shortNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

static LogicalResult verify(AugmentOp op) {
  auto range = [&](StringRef name, double v, int lo, int hi, bool hiOpen) {
    bool ok = v >= lo && (hiOpen ? v < hi : v <= hi);
    if (!ok)
      op.emitOpError() << "`" << name << "` must be in [" << lo << ", " << hi
                       << (hiOpen ? ")" : "]") << ", got " << shortNumber(v);
    return ok;
  };
  double smin = op.scale_min().convertToDouble(), smax = op.scale_max().convertToDouble();
  if (!range("translate_x", op.translate_x().convertToDouble(), 0, 1, false) ||
      !range("translate_y", op.translate_y().convertToDouble(), 0, 1, false) ||
      !range("rotate", op.rotate().convertToDouble(), 0, 180, false) ||
      !range("shear", op.shear().convertToDouble(), 0, 80, true) ||
      !range("scale_max", smax, 0, 10, false))
    return failure();
  if (!(smin > 0 && smin <= smax))
    return op.emitOpError() << "needs 0 < scale_min <= scale_max, got " << shortNumber(smin) << ", "
                            << shortNumber(smax);
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
