//===- LayerSpec.h - The built-in layers and their parameters --*- C++ -*-===//
//
// One table describes every built-in layer of the language: its surface name,
// its parameters (positional order, type, default, the values they may
// take), the tensors it owns and how unnamed instances are named. The
// elaborator checks calls against it, fills in defaults, and normalizes
// values (a square kernel `3` becomes [3, 3], `pad: 1` becomes
// [1, 1, 1, 1]); MLIRGen turns each parameter into the op attribute of the
// same name, the dialect's verifiers check hand-written IR against the same
// bounds, and the plan builder copies the attributes into the plan by name.
// docs/language.md documents the same table. Defaults follow PyTorch.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_LAYERSPEC_H
#define CNNC_DSL_LAYERSPEC_H

#include "cnnc/DSL/LayerKind.h"
#include "cnnc/DSL/Value.h"

#include <limits>
#include <map>
#include <optional>
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

/// What a parameter becomes below the frontend.
enum class ParamRole {
  Attribute,  // the op attribute of the same name
  BiasSwitch, // whether the layer owns its `bias` tensor
  Freeze,     // marks the layer's tensors as excluded from training
};

/// The values each number of a parameter may take (both entries of a pair,
/// every side of a padding, every channel of a table).
struct Bounds {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool minOpen = false, maxOpen = false;
  std::string unit; // after the range in messages: " degrees"
  /// A [min, max] pair whose first entry must not exceed the second.
  bool ordered = false;
  bool unbounded() const {
    return min == -std::numeric_limits<double>::infinity() &&
           max == std::numeric_limits<double>::infinity();
  }
  bool contains(double v) const {
    return (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
  }
};

/// "must be at least 1", "must be in [0, 1)", "must be positive" (and for an
/// ordered pair, "must be [min, max] with 0 < min <= max <= 10").
std::string describeBounds(const Bounds &b);

struct ParamSpec {
  std::string name;
  ParamType type;
  ParamRole role = ParamRole::Attribute;
  Bounds bounds;
  bool positional = false; // may be given without its name, in table order
  bool required = false;
  Value defaultValue;     // used when not required and not given
  std::string defaultsTo; // "kernel": defaults to that parameter's value
  bool optional = false;  // no default: absent unless given
  std::vector<std::string> choices;
  std::string above; // a number parameter this one must be greater than
  std::string doc;   // one line for docs and errors
};

/// How a tensor is initialized by default: PyTorch's defaults for
/// nn.Conv2d / nn.Linear (weight: kaiming_uniform_ with a = sqrt(5), i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias: the same bound, with the
/// weight's fan_in) and nn.BatchNorm2d (weight and running_var 1, bias and
/// running_mean 0); Constant fills it with the value of one of the layer's
/// parameters (nn.PReLU's `init`, ConvNeXt's layer scale).
enum class TensorInit { Weight, Bias, Ones, Zeros, Constant };

/// A tensor a layer owns, named `<layer>.<suffix>` in the state_dict, or
/// `<layer>` itself when the suffix is empty (a bare nn.Parameter of a
/// module, as torchvision's `features.1.0.layer_scale`).
struct TensorSpec {
  std::string suffix;
  TensorInit init;
  bool buffer = false;        // running statistics, not trained by gradient
  std::string onlyIf = "";    // a Bool parameter that must be true (`bias`)
  std::string valueFrom = ""; // the Float parameter a Constant tensor is filled with
};

struct LayerSpec {
  std::string name; // surface name: `conv` (layerKindName)
  LayerKind kind = LayerKind::Input;
  std::string namePrefix; // unnamed instances: conv1, conv2, ...
  bool isMerge = false;   // takes branches: concat { {..} {..} } (the Merge family)
  bool hasParameters = false;
  std::vector<ParamSpec> params;
  std::vector<TensorSpec> tensors; // in operand order, after the data inputs
  std::string summary;

  /// The parameter called `name`, or nullptr.
  const ParamSpec *param(const std::string &name) const;
};

/// The value `p` takes when it is not given, from the values of the
/// parameters before it (`stride` defaults to `kernel`): nullopt for a
/// required or an optional parameter.
std::optional<Value> defaultOf(const ParamSpec &p, const std::map<std::string, Value> &values);

/// Why `v` (already of `p`'s type) is outside `p`'s bounds: "must be at
/// least 1, got 0"; nullopt when it is inside.
std::optional<std::string> boundsViolation(const ParamSpec &p, const Value &v);

/// A parameter of `spec` that is not greater than the one it must be above
/// (ParamSpec::above), with why: "must be greater than `min_val` (1.0), got
/// 0.5"; nullopt when every such pair is in order. `values` holds every
/// parameter's value.
std::optional<std::pair<const ParamSpec *, std::string>>
orderViolation(const LayerSpec &spec, const std::map<std::string, Value> &values);

/// All built-in layers, in documentation order.
const std::vector<LayerSpec> &layerSpecs();
/// The layer called `name`, or nullptr.
const LayerSpec *findLayerSpec(const std::string &name);
/// The spec of a layer kind (every kind but Input has one).
const LayerSpec &layerSpecFor(LayerKind kind);

} // namespace cnnc

#endif // CNNC_DSL_LAYERSPEC_H
