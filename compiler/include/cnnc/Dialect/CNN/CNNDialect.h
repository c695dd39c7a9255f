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

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "cnnc/Dialect/CNN/CNNDialect.h.inc"
#include "cnnc/Dialect/CNN/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "cnnc/Dialect/CNN/CNNOps.h.inc"

namespace cnnc::cnn {

/// The integers of an I64ArrayAttr.
llvm::SmallVector<int64_t, 4> getInts(mlir::ArrayAttr attr);

/// True when `v` is produced by a cnn.param (a learned tensor, not data).
bool isParam(mlir::Value v);

/// The sliding window of a conv or pooling op along axis 0 (H) or 1 (W), as
/// its attributes give it (`same` padding counts as 0 until resolved);
/// llvm::None for ops without a window.
llvm::Optional<Window> getWindow(mlir::Operation *op, int axis);

/// The qualified layer name of a layer op ("" for other ops).
llvm::StringRef layerName(mlir::Operation *op);

} // namespace cnnc::cnn

#endif // CNNC_DIALECT_CNN_CNNDIALECT_H
