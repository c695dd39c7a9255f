//===- CNNDialect.h - The cnn dialect --------------------------*- C++ -*-===//
//
// The MLIR dialect in which cnnc represents a network between the frontend
// and code generation. Ops are defined in CNNOps.td; their shape rules in
// lib/Dialect/OpShapes.cpp on top of cnnc/Arithmetic/LayerArithmetic.h.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DIALECT_CNN_CNNDIALECT_H
#define CNNC_DIALECT_CNN_CNNDIALECT_H

#include "cnnc/Arithmetic/LayerArithmetic.h"
#include "cnnc/DSL/LayerKind.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cnnc/Dialect/CNN/CNNDialect.h.inc"

namespace cnnc::cnn {
/// Computes the shapes of a layer op's result and parameters by its kind's
/// rule (OpShapes.cpp) and sets them; every layer op's `inferShapes`.
mlir::LogicalResult applyShapes(mlir::Operation *op);
} // namespace cnnc::cnn

#include "cnnc/Dialect/CNN/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.h.inc"

namespace cnnc::cnn {

/// The integers of an I64ArrayAttr.
llvm::SmallVector<int64_t, 4> getInts(mlir::ArrayAttr attr);

/// The explicit padding [top, left, bottom, right] of a `pad` attribute; empty
/// for `"same"` (not yet resolved) or no attribute.
llvm::SmallVector<int64_t, 4> explicitPadding(mlir::Attribute pad);

/// True when a `pad` attribute is `"same"`, which shape inference resolves.
bool isSamePadding(mlir::Attribute pad);

/// True when `v` is produced by a cnn.param (a learned tensor, not data).
bool isParam(mlir::Value v);

/// The sliding window of a conv or pooling op along axis 0 (H) or 1 (W), as
/// its attributes give it (`same` padding counts as 0 until resolved);
/// llvm::None for ops without a window.
llvm::Optional<Window> getWindow(mlir::Operation *op, int axis);

/// The layer kind of a cnn op (by its mnemonic, LayerKinds.def), if it is a
/// layer.
std::optional<LayerKind> layerKindOf(mlir::Operation *op);

/// The qualified layer name of a layer op ("" for other ops).
llvm::StringRef layerName(mlir::Operation *op);

} // namespace cnnc::cnn

#endif // CNNC_DIALECT_CNN_CNNDIALECT_H
