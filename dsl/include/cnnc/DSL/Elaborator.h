//===- Elaborator.h - AST to layer graph -----------------------*- C++ -*-===//
//
// Elaboration gives a parsed network its meaning: it instantiates blocks with
// their arguments (defaults, keyword arguments, optional type annotations),
// unrolls `repeat`, evaluates expressions, checks every layer call against the
// built-in layer table, resolves `@name` references, and names every layer
// the way PyTorch names modules (labels, `seq`/`repeat` positions, or
// generated `conv1`, `bn2`, ...). The result is a Graph in topological order.
//
// Errors here are about the text (unknown names, wrong argument types,
// recursion, duplicate names), each reported at its location with a "did you
// mean" where a close name exists. Shape errors are found later, by shape
// inference on the MLIR form, except where `in_channels` needs a shape
// during elaboration: the caller's ShapeOracle then runs those rules on the
// layers elaborated so far.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_ELABORATOR_H
#define CNNC_DSL_ELABORATOR_H

#include "cnnc/DSL/AST.h"
#include "cnnc/DSL/Graph.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cnnc {

/// Input shapes given on the command line (`cnnc --input-shape
/// image=3x112x112`), by input name: they replace the declared dimensions
/// (same rank), as running a torchvision model on another image size does.
using InputShapes = std::map<std::string, std::vector<int64_t>>;

/// The name that reads the channel count of the current tensor (the input
/// of the layer or block being called) where no block parameter or
/// constant of that name hides it.
inline constexpr const char *kInChannels = "in_channels";

/// Infers the shape (without the batch: C x H x W, or F) of the last output
/// of `prefix`, a graph that holds one tensor and the layers it reads, in
/// topological order; std::nullopt after reporting its errors. The
/// elaborator asks it for `in_channels`, so that shapes are computed by the
/// one set of shape rules (the cnn dialect's), not by a second one here.
using ShapeOracle = std::function<std::optional<std::vector<int64_t>>(const Graph &prefix)>;

/// Elaborates `network` of `module`, with `inputShapes` replacing declared
/// input dimensions (an error names one that matches no input). `shapes`
/// answers `in_channels` past the inputs (without it, that is an error).
/// Returns std::nullopt after reporting errors to `diags`.
std::optional<Graph> elaborate(const Module &module, const NetworkDef &network,
                               DiagnosticEngine &diags, const InputShapes &inputShapes = {},
                               const ShapeOracle &shapes = {});

/// Picks the network to compile: the one called `name`, or the only one.
/// Reports an error (with the candidates) and returns nullptr otherwise.
const NetworkDef *selectNetwork(const Module &module, const std::string &name,
                                DiagnosticEngine &diags);

} // namespace cnnc

#endif // CNNC_DSL_ELABORATOR_H
