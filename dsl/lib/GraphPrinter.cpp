//===- GraphPrinter.cpp - `cnnc --emit=graph` -----------------------------===//
//
// Prints the elaborated graph: one line a layer with its qualified name, kind,
// inputs and normalized attributes (defaults filled in), then the outputs.
//
//===----------------------------------------------------------------------===//
#include "cnnc/DSL/Graph.h"

namespace cnnc {

void printGraph(std::ostream &os, const Graph &graph) {
  os << "network " << graph.name << "\n";
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer &l = graph.layers[i];
    os << "  %" << i << " " << l.name << " = " << layerKindName(l.kind) << "(";
    for (size_t k = 0; k < l.inputs.size(); ++k)
      os << (k ? ", " : "") << "%" << l.inputs[k];
    os << ")";
    bool first = true;
    for (const auto &[key, value] : l.attrs) {
      os << (first ? " {" : ", ") << key << ": " << value.str();
      first = false;
    }
    if (!first)
      os << "}";
    os << " @" << l.range.begin.line << ":" << l.range.begin.col << "\n";
  }
  for (const GraphOutput &o : graph.outputs)
    os << "  output " << o.name << " = %" << o.layer << "\n";
}

} // namespace cnnc
