//===- MLIRGen.h - Layer graph to the cnn dialect --------------*- C++ -*-===//
//
// Turns an elaborated Graph into a module with one `builtin.func` named after
// the network: the inputs become ranked arguments (batch dynamic), each layer
// one cnn op with its attributes and a FileLineColLoc into the .cnn source,
// each learned tensor a named `cnn.param`. Result types are left unranked for
// the shape inference pass.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_MLIRGEN_MLIRGEN_H
#define CNNC_MLIRGEN_MLIRGEN_H

#include "cnnc/DSL/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace cnnc {

mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const Graph &graph,
                                          llvm::StringRef fileName);

} // namespace cnnc

#endif // CNNC_MLIRGEN_MLIRGEN_H
