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
// inference on the MLIR form.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_ELABORATOR_H
#define CNNC_DSL_ELABORATOR_H

#include "cnnc/DSL/AST.h"
#include "cnnc/DSL/Graph.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cnnc {

/// Input shapes given on the command line (`cnnc --input-shape
/// image=3x112x112`), by input name: they replace the declared dimensions
/// (same rank), as running a torchvision model on another image size does.
using InputShapes = std::map<std::string, std::vector<int64_t>>;

/// Elaborates `network` of `module`, with `inputShapes` replacing declared
/// input dimensions (an error names one that matches no input). Returns
/// std::nullopt after reporting errors to `diags`.
std::optional<Graph> elaborate(const Module &module, const NetworkDef &network,
                               DiagnosticEngine &diags, const InputShapes &inputShapes = {});

/// Picks the network to compile: the one called `name`, or the only one.
/// Reports an error (with the candidates) and returns nullptr otherwise.
const NetworkDef *selectNetwork(const Module &module, const std::string &name,
                                DiagnosticEngine &diags);

} // namespace cnnc

#endif // CNNC_DSL_ELABORATOR_H
