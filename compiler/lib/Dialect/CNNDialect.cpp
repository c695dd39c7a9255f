//===- CNNDialect.cpp - The cnn dialect -----------------------------------===//
#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

#include "cnnc/Dialect/CNN/CNNDialect.cpp.inc"
#include "cnnc/Dialect/CNN/ShapeInferenceInterface.cpp.inc"

namespace cnnc::cnn {

void CNNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "cnnc/Dialect/CNN/CNNOps.cpp.inc"
      >();
}

llvm::SmallVector<int64_t, 4> getInts(ArrayAttr attr) {
  llvm::SmallVector<int64_t, 4> out;
  if (!attr)
    return out;
  for (Attribute a : attr)
    if (auto i = a.dyn_cast<IntegerAttr>())
      out.push_back(i.getInt());
  return out;
}

bool isParam(Value v) { return v.getDefiningOp<ParamOp>() != nullptr; }

StringRef layerName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("layer"))
    return name.getValue();
  return "";
}

llvm::Optional<Window> getWindow(Operation *op, int axis) {
  auto make = [&](ArrayAttr kernel, ArrayAttr stride, ArrayAttr padding, ArrayAttr dilation,
                  bool ceil) -> llvm::Optional<Window> {
    auto k = getInts(kernel), s = getInts(stride), p = getInts(padding), d = getInts(dilation);
    if (k.size() != 2 || s.size() != 2 || (padding && p.size() != 4) || (dilation && d.size() != 2))
      return llvm::None;
    Window w;
    w.kernel = k[axis];
    w.stride = s[axis];
    w.padBegin = padding ? p[axis] : 0;
    w.padEnd = padding ? p[axis + 2] : 0;
    w.dilation = dilation ? d[axis] : 1;
    w.ceilMode = ceil;
    return w;
  };
  return llvm::TypeSwitch<Operation *, llvm::Optional<Window>>(op)
      .Case([&](Conv2DOp c) {
        return make(c.kernel(), c.stride(), c.padding(), c.dilation(), false);
      })
      .Case([&](MaxPool2DOp c) {
        return make(c.kernel(), c.stride(), c.padding(), c.dilation(), c.ceil_mode());
      })
      .Case([&](AvgPool2DOp c) {
        return make(c.kernel(), c.stride(), c.padding(), nullptr, c.ceil_mode());
      })
      .Case([&](L2Pool2DOp c) {
        return make(c.kernel(), c.stride(), nullptr, nullptr, c.ceil_mode());
      })
      .Default([](Operation *) { return llvm::None; });
}

} // namespace cnnc::cnn
