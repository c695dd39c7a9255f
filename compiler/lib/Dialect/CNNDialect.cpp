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

std::optional<LayerKind> layerKindOf(Operation *op) {
  if (op->getName().getDialectNamespace() != CNNDialect::getDialectNamespace())
    return std::nullopt;
  StringRef mnemonic = op->getName().stripDialect();
  return cnnc::layerKindOfOp(std::string_view(mnemonic.data(), mnemonic.size()));
}

StringRef layerName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("layer"))
    return name.getValue();
  return "";
}

llvm::SmallVector<int64_t, 4> explicitPadding(Attribute pad) {
  if (auto ints = pad.dyn_cast_or_null<ArrayAttr>())
    return getInts(ints);
  return {};
}

bool isSamePadding(Attribute pad) {
  auto s = pad.dyn_cast_or_null<StringAttr>();
  return s && s.getValue() == "same";
}

llvm::Optional<Window> getWindow(Operation *op, int axis) {
  auto make = [&](ArrayAttr kernel, ArrayAttr stride, Attribute pad, ArrayAttr dilation,
                  bool ceil) -> llvm::Optional<Window> {
    auto k = getInts(kernel), s = getInts(stride), d = getInts(dilation);
    auto p = explicitPadding(pad);
    bool padded = p.size() == 4; // `same` counts as 0 until resolved
    if (k.size() != 2 || s.size() != 2 || (dilation && d.size() != 2))
      return llvm::None;
    Window w;
    w.kernel = k[axis];
    w.stride = s[axis];
    w.padBegin = padded ? p[axis] : 0;
    w.padEnd = padded ? p[axis + 2] : 0;
    w.dilation = dilation ? d[axis] : 1;
    w.ceilMode = ceil;
    return w;
  };
  return llvm::TypeSwitch<Operation *, llvm::Optional<Window>>(op)
      .Case([&](Conv2DOp c) { return make(c.kernel(), c.stride(), c.pad(), c.dilation(), false); })
      .Case([&](MaxPool2DOp c) {
        return make(c.kernel(), c.stride(), c.pad(), c.dilation(), c.ceil());
      })
      .Case([&](AvgPool2DOp c) { return make(c.kernel(), c.stride(), c.pad(), nullptr, c.ceil()); })
      .Case([&](L2Pool2DOp c) { return make(c.kernel(), c.stride(), nullptr, nullptr, c.ceil()); })
      .Default([](Operation *) { return llvm::None; });
}

} // namespace cnnc::cnn
