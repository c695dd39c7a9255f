//===- OpShapes.h - Shape rules of the cnn ops -----------------*- C++ -*-===//
//
// One function computes, for any layer op whose data operands are ranked,
// the shape of its result and of its parameters. Shape inference applies it;
// the verifiers compare against it. The arithmetic itself is in
// cnnc/Arithmetic/LayerArithmetic.h.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_LIB_DIALECT_OPSHAPES_H
#define CNNC_LIB_DIALECT_OPSHAPES_H

#include "cnnc/Dialect/CNN/CNNDialect.h"

namespace cnnc::cnn {

struct InferredShapes {
  llvm::SmallVector<int64_t, 4> result; // batch first (-1 when dynamic)
  llvm::SmallVector<std::pair<mlir::Value, llvm::SmallVector<int64_t, 4>>, 4> params;
  llvm::Optional<llvm::SmallVector<int64_t, 4>> resolvedPadding; // for `same`
};

/// The shapes of `op`'s result and parameters, or failure after reporting a
/// located error (with notes) at the op.
mlir::FailureOr<InferredShapes> computeShapes(mlir::Operation *op);

/// When the data operands and the result are ranked, checks them against the
/// shape rules (used by the verifiers).
mlir::LogicalResult verifyShapes(mlir::Operation *op);

/// "16x28x28": a shape without its batch dimension.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

} // namespace cnnc::cnn

#endif // CNNC_LIB_DIALECT_OPSHAPES_H
