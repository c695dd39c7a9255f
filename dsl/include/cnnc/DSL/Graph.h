//===- Graph.h - The elaborated layer graph --------------------*- C++ -*-===//
//
// What a network is once every block is instantiated, every repetition
// unrolled and every expression evaluated: a list of layers in definition
// order (a topological order), each producing one tensor, each with its
// fully-qualified PyTorch-style name (`layer1.0.conv1`), its source range, its
// inputs (indices of earlier layers) and its normalized attributes. No shapes
// yet: shape inference happens on the MLIR form (Elaborator.h's ShapeOracle).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_GRAPH_H
#define CNNC_DSL_GRAPH_H

#include "cnnc/DSL/Diagnostics.h"
#include "cnnc/DSL/LayerSpec.h"
#include "cnnc/DSL/Value.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace cnnc {

struct Layer {
  LayerKind kind;
  std::string name;
  SourceRange range;
  std::vector<int> inputs;
  std::map<std::string, Value> attrs;

  const Value *attr(const std::string &key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  }
  int64_t getInt(const std::string &key) const { return attrs.at(key).i; }
  double getFloat(const std::string &key) const { return attrs.at(key).asDouble(); }
  bool getBool(const std::string &key) const { return attrs.at(key).b; }
  std::vector<int64_t> getInts(const std::string &key) const { return attrs.at(key).asInts(); }
};

struct GraphOutput {
  std::string name;
  int layer;
  SourceRange range;
};

struct Graph {
  std::string name;
  std::vector<Layer> layers;
  std::vector<GraphOutput> outputs;
};

/// Prints the graph, one layer a line (`cnnc --emit=graph`).
void printGraph(std::ostream &os, const Graph &graph);

} // namespace cnnc

#endif // CNNC_DSL_GRAPH_H
