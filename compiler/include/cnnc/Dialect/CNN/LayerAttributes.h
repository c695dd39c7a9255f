//===- LayerAttributes.h - Layer parameters as op attributes ---*- C++ -*-===//
//
// A layer's parameters in the .cnn language (cnnc/DSL/LayerSpec.h) are the
// attributes of its op, with the same names: these functions make the one
// from the other and check hand-written IR against the parameters' types and
// bounds, so that MLIRGen, the passes that create layers and the verifiers
// iterate a layer's parameters instead of naming attributes one by one.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DIALECT_CNN_LAYERATTRIBUTES_H
#define CNNC_DIALECT_CNN_LAYERATTRIBUTES_H

#include "cnnc/DSL/LayerSpec.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <map>
#include <optional>
#include <string>

namespace cnnc::cnn {

/// A value of parameter `p`, as the elaborator normalizes it, as the
/// attribute of the same name.
mlir::Attribute paramAttribute(mlir::Builder &b, const ParamSpec &p, const cnnc::Value &v);

/// The attributes of a layer op of `spec`: every parameter with the
/// Attribute role, from `given` or else its default (an optional parameter
/// that is not given stays absent). `layer` is not included.
llvm::SmallVector<mlir::NamedAttribute, 8>
layerAttributes(mlir::Builder &b, const LayerSpec &spec,
                const std::map<std::string, cnnc::Value> &given);

/// Checks each attribute parameter of the op's kind: present unless
/// optional, of the parameter's type and within its bounds.
mlir::LogicalResult verifyLayerAttributes(mlir::Operation *op);

} // namespace cnnc::cnn

#endif // CNNC_DIALECT_CNN_LAYERATTRIBUTES_H
