//===- GraphShapes.h - Shapes of an elaborated graph -----------*- C++ -*-===//
//
// The elaborator's ShapeOracle: a graph's output shape from the cnn
// dialect's shape rules (MLIRGen, then the shape inference pass), so that
// `in_channels` in a .cnn file reads what the reports will show.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TRANSFORMS_GRAPHSHAPES_H
#define CNNC_TRANSFORMS_GRAPHSHAPES_H

#include "cnnc/DSL/Graph.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace cnnc {

/// The shape without the batch of `graph`'s first output, inferred in
/// `context` (whose diagnostic handler receives the errors); std::nullopt on
/// errors. `fileName` locates them.
std::optional<std::vector<int64_t>> inferOutputShape(mlir::MLIRContext &context, const Graph &graph,
                                                     llvm::StringRef fileName);

} // namespace cnnc

#endif // CNNC_TRANSFORMS_GRAPHSHAPES_H
