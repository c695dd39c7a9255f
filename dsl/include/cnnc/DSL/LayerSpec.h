//===- LayerSpec.h - The built-in layers and their parameters --*- C++ -*-===//
//
// One table describes every built-in layer of the language: its surface name,
// its parameters (positional order, type, default) and how unnamed instances
// are named. The elaborator checks calls against it, fills in defaults, and
// normalizes values (a square kernel `3` becomes [3, 3], `pad: 1` becomes
// [1, 1, 1, 1]); docs/language.md documents the same table. Defaults follow
// PyTorch.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_LAYERSPEC_H
#define CNNC_DSL_LAYERSPEC_H

#include "cnnc/DSL/LayerKind.h"
#include "cnnc/DSL/Value.h"

#include <string>
#include <vector>

namespace cnnc {

/// How an argument is checked and normalized.
enum class ParamType {
  Int,       // an integer
  Float,     // a number
  Bool,      // true / false
  IntPair,   // `3` or `[3, 5]` or `3x5` -> [h, w]
  FloatPair, // `0.1` or `[0.9, 1.1]` -> [a, b]
  Padding,   // `1`, `[h, w]`, `[top, left, bottom, right]`, `same`, `valid`
  Enum,      // one of `choices`, as a bare name or a string
  Table,     // a list of lists of integers (connection table)
};

struct ParamSpec {
  std::string name;
  ParamType type;
  bool positional = false; // may be given without its name, in table order
  bool required = false;
  Value defaultValue;     // used when not required and not given
  std::string defaultsTo; // "kernel": defaults to that parameter's value
  bool optional = false;  // no default: absent unless given
  std::vector<std::string> choices;
  std::string doc; // one line for docs and errors
};

struct LayerSpec {
  std::string name; // surface name: `conv` (layerKindName)
  LayerKind kind = LayerKind::Input;
  std::string namePrefix; // unnamed instances: conv1, conv2, ...
  bool isMerge = false;   // takes branches: concat { {..} {..} } (the Merge family)
  bool hasParameters = false;
  std::vector<ParamSpec> params;
  std::string summary;
};

/// All built-in layers, in documentation order.
const std::vector<LayerSpec> &layerSpecs();
/// The layer called `name`, or nullptr.
const LayerSpec *findLayerSpec(const std::string &name);
/// The spec of a layer kind (every kind but Input has one).
const LayerSpec &layerSpecFor(LayerKind kind);

} // namespace cnnc

#endif // CNNC_DSL_LAYERSPEC_H
