//===- LayerSpec.cpp - The built-in layers and their parameters -----------===//
#include "cnnc/DSL/LayerSpec.h"
#include "cnnc/DSL/Limits.h"
#include "cnnc/DSL/PadMode.h"

#include <cstdlib>
#include <sstream>

namespace cnnc {

namespace {
ParamSpec req(std::string name, ParamType type, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.positional = true;
  p.required = true;
  p.doc = std::move(doc);
  return p;
}
ParamSpec opt(std::string name, ParamType type, Value def, std::string doc,
              bool positional = false) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.positional = positional;
  p.defaultValue = std::move(def);
  p.doc = std::move(doc);
  return p;
}
/// Bounds [min, max] (open ends where asked), with a unit for messages.
Bounds range(double min, double max, bool maxOpen = false, std::string unit = "") {
  Bounds b;
  b.min = min;
  b.max = max;
  b.maxOpen = maxOpen;
  b.unit = std::move(unit);
  return b;
}
Bounds atLeast(double min) {
  Bounds b;
  b.min = min;
  return b;
}
Bounds positive() {
  Bounds b = atLeast(0);
  b.minOpen = true;
  return b;
}
ParamSpec bounded(ParamSpec p, Bounds b) {
  p.bounds = std::move(b);
  return p;
}
ParamSpec strideLikeKernel() {
  ParamSpec p = opt("stride", ParamType::IntPair, Value(), "step between windows");
  p.defaultsTo = "kernel";
  p.bounds = atLeast(1);
  return p;
}
ParamSpec padding() {
  return bounded(opt("pad", ParamType::Padding, Value::ints({0, 0, 0, 0}),
                     "zero padding: n, [h, w], [top, left, bottom, right], same or valid"),
                 atLeast(0));
}
ParamSpec ceilMode() {
  return opt("ceil", ParamType::Bool, Value::boolean(false),
             "ceil mode: round the output size up instead of down");
}
ParamSpec frozen() {
  ParamSpec p = opt("frozen", ParamType::Bool, Value::boolean(false),
                    "exclude the layer's parameters from training");
  p.role = ParamRole::Freeze;
  return p;
}
ParamSpec biasSwitch(std::string doc) {
  ParamSpec p = opt("bias", ParamType::Bool, Value::boolean(true), std::move(doc));
  p.role = ParamRole::BiasSwitch;
  return p;
}
/// A learned weight and the bias that `bias: false` removes.
std::vector<TensorSpec> weightAndBias() {
  return {{"weight", TensorInit::Weight}, {"bias", TensorInit::Bias, false, "bias"}};
}

/// A layer's spec: its name and whether it merges branches come from the
/// layer table (LayerKinds.def).
LayerSpec layer(LayerKind kind, std::string namePrefix, bool hasParameters, std::string summary,
                std::vector<ParamSpec> params = {}) {
  LayerSpec l;
  l.name = layerKindName(kind);
  l.kind = kind;
  l.namePrefix = std::move(namePrefix);
  l.isMerge = layerFamily(kind) == LayerFamily::Merge;
  l.hasParameters = hasParameters;
  l.params = std::move(params);
  l.summary = std::move(summary);
  return l;
}

std::vector<LayerSpec> buildSpecs() {
  std::vector<LayerSpec> s;
  {
    LayerSpec l = layer(LayerKind::Conv, "conv", true, "2-D convolution");
    l.params.push_back(
        bounded(req("filters", ParamType::Int, "number of output channels"), atLeast(1)));
    l.params.push_back(bounded(
        req("kernel", ParamType::IntPair, "window size: k, [kh, kw] or khxkw"), atLeast(1)));
    l.params.push_back(
        bounded(opt("stride", ParamType::IntPair, Value::ints({1, 1}), "step between windows"),
                atLeast(1)));
    l.params.push_back(padding());
    l.params.push_back(bounded(
        opt("dilation", ParamType::IntPair, Value::ints({1, 1}), "spacing between kernel taps"),
        atLeast(1)));
    l.params.push_back(bounded(opt("groups", ParamType::Int, Value::integer(1),
                                   "grouped convolution: channels split into groups"),
                               atLeast(1)));
    l.params.push_back(biasSwitch("add a learned bias per output channel"));
    ParamSpec mode = opt("mode", ParamType::Enum, Value::symbol(padModeName(PadMode::Zeros)),
                         "padding mode: " + padModeChoices());
    for (size_t m = 0; m < kNumPadModes; ++m)
      mode.choices.push_back(padModeName(static_cast<PadMode>(m)));
    l.params.push_back(mode);
    ParamSpec table = opt("table", ParamType::Table, Value(),
                          "partial connection table: for each output channel, "
                          "the input channels it reads (LeNet-5's C3)");
    table.optional = true;
    table.bounds = atLeast(0);
    l.params.push_back(table);
    l.params.push_back(frozen());
    l.tensors = weightAndBias();
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::MaxPool, "maxpool", false, "max pooling");
    l.params.push_back(bounded(req("kernel", ParamType::IntPair, "window size"), atLeast(1)));
    l.params.push_back(strideLikeKernel());
    l.params.push_back(padding());
    l.params.push_back(bounded(
        opt("dilation", ParamType::IntPair, Value::ints({1, 1}), "spacing between window taps"),
        atLeast(1)));
    l.params.push_back(ceilMode());
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::AvgPool, "avgpool", false, "average pooling");
    l.params.push_back(bounded(req("kernel", ParamType::IntPair, "window size"), atLeast(1)));
    l.params.push_back(strideLikeKernel());
    l.params.push_back(padding());
    l.params.push_back(ceilMode());
    l.params.push_back(opt("count_include_pad", ParamType::Bool, Value::boolean(true),
                           "divide by the whole window, padding included"));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::L2Pool, "l2pool", false,
                        "L2 pooling: sqrt of the sum of squares over the window");
    l.params.push_back(bounded(req("kernel", ParamType::IntPair, "window size"), atLeast(1)));
    l.params.push_back(strideLikeKernel());
    l.params.push_back(ceilMode());
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::GlobalAvgPool, "gap", false,
                    "average over the whole spatial extent: CxHxW -> Cx1x1"));
  for (LayerKind kind : {LayerKind::AdaptiveAvgPool, LayerKind::AdaptiveMaxPool}) {
    bool isMax = kind == LayerKind::AdaptiveMaxPool;
    LayerSpec l = layer(kind, isMax ? "adaptive_maxpool" : "adaptive_avgpool", false,
                        std::string(isMax ? "maximum" : "average") +
                            " over windows that tile the input into an output of the given "
                            "size (nn.Adaptive" +
                            (isMax ? "Max" : "Avg") + "Pool2d)");
    l.params.push_back(bounded(
        req("output_size", ParamType::IntPair, "output size: n, [h, w] or hxw"), atLeast(1)));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::Dense, "fc", true, "fully connected layer");
    l.params.push_back(bounded(req("units", ParamType::Int, "number of outputs"), atLeast(1)));
    l.params.push_back(biasSwitch("add a learned bias"));
    ParamSpec in = opt("in", ParamType::Int, Value(),
                       "expected number of inputs; checked against the inferred size");
    in.optional = true;
    in.bounds = atLeast(1);
    l.params.push_back(in);
    ParamSpec over = opt("over", ParamType::Enum, Value::symbol("features"),
                         "features (of a flat tensor) or channels (at every pixel of a "
                         "C x H x W tensor, nn.Linear on channels-last)");
    over.choices = {"features", "channels"};
    l.params.push_back(over);
    l.params.push_back(frozen());
    l.tensors = weightAndBias();
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::Flatten, "flatten", false, "CxHxW -> C*H*W features"));
  {
    LayerSpec l = layer(LayerKind::Chunk, "chunk", false,
                        "piece `index` of torch.chunk(x, chunks, dim=1): ceil(C / chunks) "
                        "channels, the last piece smaller");
    l.params.push_back(
        bounded(req("chunks", ParamType::Int, "number of pieces of the channels"), atLeast(1)));
    l.params.push_back(bounded(req("index", ParamType::Int, "which piece, from 0"), atLeast(0)));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::ChannelShuffle, "channel_shuffle", false,
                        "ShuffleNet's shuffle: the channels as groups x C/groups, transposed");
    l.params.push_back(bounded(
        req("groups", ParamType::Int, "number of groups; divides the channels"), atLeast(1)));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::Dropout, "dropout", false,
                        "zero inputs with probability p while training");
    l.params.push_back(bounded(
        opt("p", ParamType::Float, Value::real(0.5), "drop probability", true), range(0, 1, true)));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::StochasticDepth, "stochastic_depth", false,
                        "drop the whole sample with probability p while training (a residual "
                        "branch; torchvision's StochasticDepth, mode \"row\")");
    l.params.push_back(bounded(
        opt("p", ParamType::Float, Value::real(0.5), "drop probability", true), range(0, 1, true)));
    s.push_back(l);
  }
  {
    // Identity at inference; in training a random affine warp of the input
    // (docs/training.md, "Data augmentation").
    LayerSpec l =
        layer(LayerKind::Augment, "augment", false,
              "random affine warp (shift, rotation, shear, zoom) and horizontal flip of a "
              "network input while training");
    // The runtime checks the same ranges for its API (Augmentation.cpp).
    l.params.push_back(bounded(
        opt("translate", ParamType::FloatPair, Value::makeList({Value::real(0), Value::real(0)}),
            "largest shift as a fraction of the width and height: t or [tx, ty]"),
        range(0, 1, false, " (a fraction of the size)")));
    l.params.push_back(
        bounded(opt("rotate", ParamType::Float, Value::real(0), "largest rotation, degrees"),
                range(0, 180, false, " degrees")));
    l.params.push_back(
        bounded(opt("shear", ParamType::Float, Value::real(0), "largest horizontal shear, degrees"),
                range(0, 80, true, " degrees")));
    Bounds zoom = range(0, 10);
    zoom.minOpen = true;
    zoom.ordered = true;
    l.params.push_back(
        bounded(opt("scale", ParamType::FloatPair,
                    Value::makeList({Value::real(1), Value::real(1)}), "zoom range [min, max]"),
                zoom));
    l.params.push_back(opt("flip", ParamType::Bool, Value::boolean(false),
                           "mirror horizontally with probability 1/2"));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::BatchNorm, "bn", true, "batch normalization over channels");
    l.params.push_back(bounded(
        opt("eps", ParamType::Float, Value::real(1e-5), "added to the variance"), positive()));
    l.params.push_back(bounded(
        opt("momentum", ParamType::Float, Value::real(0.1), "running statistics update factor"),
        range(0, 1)));
    l.params.push_back(frozen());
    l.tensors = {{"weight", TensorInit::Ones},
                 {"bias", TensorInit::Zeros},
                 {"running_mean", TensorInit::Zeros, true},
                 {"running_var", TensorInit::Ones, true}};
    s.push_back(l);
  }
  {
    LayerSpec l =
        layer(LayerKind::LRN, "lrn", false, "local response normalization across channels");
    l.params.push_back(
        bounded(req("size", ParamType::Int, "number of neighbouring channels"), atLeast(1)));
    l.params.push_back(
        bounded(opt("alpha", ParamType::Float, Value::real(1e-4), "scale"), positive()));
    l.params.push_back(opt("beta", ParamType::Float, Value::real(0.75), "exponent"));
    l.params.push_back(opt("k", ParamType::Float, Value::real(1.0), "additive constant"));
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::Softmax, "softmax", false, "softmax over channels / features"));
  {
    LayerSpec l = layer(LayerKind::LayerNorm, "layernorm", true,
                        "layer normalization over the channels at each pixel (or the features "
                        "of a flat tensor), with a learned scale and shift per channel");
    l.params.push_back(bounded(
        opt("eps", ParamType::Float, Value::real(1e-5), "added to the variance"), positive()));
    l.params.push_back(frozen());
    l.tensors = {{"weight", TensorInit::Ones}, {"bias", TensorInit::Zeros}};
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::LayerScale, "layer_scale", true,
                        "a learned scale per channel (ConvNeXt's layer scale); its tensor is "
                        "named by the layer itself, C x 1 x 1");
    l.params.push_back(
        opt("init", ParamType::Float, Value::real(1e-6), "initial value of every scale", true));
    l.params.push_back(frozen());
    l.tensors = {{"", TensorInit::Constant, false, "", "init"}};
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::PReLU, "prelu", true,
                        "x if x > 0 else a * x, a learned: one slope, or one per channel");
    l.params.push_back(bounded(opt("num_parameters", ParamType::Int, Value::integer(1),
                                   "1 (one slope) or the channel count", true),
                               atLeast(1)));
    l.params.push_back(opt("init", ParamType::Float, Value::real(0.25), "initial slope"));
    l.params.push_back(frozen());
    l.tensors = {{"weight", TensorInit::Constant, false, "", "init"}};
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::ReLU, "relu", false, "max(x, 0)"));
  {
    LayerSpec l = layer(LayerKind::LeakyReLU, "leaky_relu", false, "x if x > 0 else slope * x");
    l.params.push_back(opt("slope", ParamType::Float, Value::real(0.01), "negative slope", true));
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::Sigmoid, "sigmoid", false, "1 / (1 + exp(-x))"));
  s.push_back(layer(LayerKind::Tanh, "tanh", false, "hyperbolic tangent"));
  s.push_back(layer(LayerKind::ReLU6, "relu6", false, "min(max(x, 0), 6)"));
  {
    LayerSpec l = layer(LayerKind::Hardtanh, "hardtanh", false, "min(max(x, min_val), max_val)");
    l.params.push_back(opt("min_val", ParamType::Float, Value::real(-1), "lower limit", true));
    ParamSpec max = opt("max_val", ParamType::Float, Value::real(1), "upper limit", true);
    max.above = "min_val";
    l.params.push_back(max);
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::Hardsigmoid, "hardsigmoid", false, "relu6(x + 3) / 6"));
  s.push_back(layer(LayerKind::Hardswish, "hardswish", false, "x * relu6(x + 3) / 6"));
  s.push_back(layer(LayerKind::SiLU, "silu", false, "x * sigmoid(x) (swish)"));
  {
    LayerSpec l = layer(LayerKind::GELU, "gelu", false,
                        "x * Phi(x), Phi the standard normal CDF; or its tanh approximation");
    ParamSpec approximate = opt("approximate", ParamType::Enum, Value::symbol("none"),
                                "none (exact, with erf) or tanh");
    approximate.choices = {"none", "tanh"};
    l.params.push_back(approximate);
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::ELU, "elu", false, "x if x > 0 else alpha * (exp(x) - 1)");
    l.params.push_back(
        opt("alpha", ParamType::Float, Value::real(1.0), "scale of the negative part", true));
    s.push_back(l);
  }
  {
    LayerSpec l = layer(LayerKind::Scale, "scale", false,
                        "factor * x: a constant multiplier (Inception-ResNet's residual scaling)");
    l.params.push_back(req("factor", ParamType::Float, "the multiplier"));
    s.push_back(l);
  }
  s.push_back(layer(LayerKind::Concat, "concat", false,
                    "run the branches on the same input, concatenate along channels"));
  s.push_back(layer(LayerKind::Add, "add", false,
                    "run the branches on the same input, add elementwise; `{}` is the identity; "
                    "a 1x1 branch is broadcast over the others' pixels"));
  s.push_back(layer(LayerKind::Mul, "mul", false,
                    "run the branches on the same input, multiply elementwise; a 1x1 branch "
                    "scales each channel of the others (squeeze-and-excitation)"));
  s.push_back(layer(LayerKind::Project, "project", true,
                    "inside an `add` branch: identity when the shapes already match, "
                    "otherwise a 1x1 conv (no bias) + batchnorm to the other branch's shape",
                    {frozen()}));
  return s;
}
} // namespace

const ParamSpec *LayerSpec::param(const std::string &paramName) const {
  for (const ParamSpec &p : params)
    if (p.name == paramName)
      return &p;
  return nullptr;
}

namespace {
std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
} // namespace

std::string describeBounds(const Bounds &b) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (b.ordered)
    return "must be [min, max] with " + number(b.min) + (b.minOpen ? " < " : " <= ") +
           "min <= max" + (b.maxOpen ? " < " : " <= ") + number(b.max) + b.unit;
  if (b.max == inf && !b.minOpen && b.min == 0)
    return "must not be negative" + b.unit;
  if (b.max == inf && b.minOpen && b.min == 0)
    return "must be positive" + b.unit;
  if (b.max == inf)
    return std::string(b.minOpen ? "must be more than " : "must be at least ") + number(b.min) +
           b.unit;
  if (b.min == -inf)
    return std::string(b.maxOpen ? "must be less than " : "must be at most ") + number(b.max) +
           b.unit;
  return "must be in " + std::string(b.minOpen ? "(" : "[") + number(b.min) + ", " + number(b.max) +
         (b.maxOpen ? ")" : "]") + b.unit;
}

std::optional<std::string> boundsViolation(const ParamSpec &p, const Value &v) {
  const Bounds &b = p.bounds;
  auto fail = [&](const std::string &got) { return describeBounds(b) + ", got " + got; };
  switch (p.type) {
  case ParamType::Int:
  case ParamType::IntPair:
  case ParamType::Padding:
  case ParamType::Table: {
    if (v.kind == Value::Kind::Symbol) // `same`
      return std::nullopt;
    std::vector<int64_t> ints;
    if (v.isInt())
      ints = {v.i};
    else
      for (const Value &e : v.list)
        for (int64_t x : e.isInt() ? std::vector<int64_t>{e.i} : e.asInts())
          ints.push_back(x);
    for (int64_t x : ints) {
      // Every integer of every layer, whatever its own bounds (Limits.h).
      if (x > kMaxSize || x < -kMaxSize)
        return "must be at most " + std::to_string(kMaxSize) +
               " in magnitude (generated code indexes with 32-bit integers), got " +
               std::to_string(x);
      if (!b.contains(static_cast<double>(x)))
        return fail(std::to_string(x));
    }
    return std::nullopt;
  }
  case ParamType::Float:
    if (b.unbounded())
      return std::nullopt;
    if (!b.contains(v.asDouble()))
      return fail(v.str());
    return std::nullopt;
  case ParamType::FloatPair: {
    if (b.unbounded() && !b.ordered)
      return std::nullopt;
    bool ok = true;
    for (const Value &e : v.list)
      ok &= b.contains(e.asDouble());
    if (b.ordered && v.list.size() == 2)
      ok &= v.list[0].asDouble() <= v.list[1].asDouble();
    if (!ok)
      return fail(v.str());
    return std::nullopt;
  }
  case ParamType::Bool:
  case ParamType::Enum:
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Value> defaultOf(const ParamSpec &p, const std::map<std::string, Value> &values) {
  if (p.required || p.optional)
    return std::nullopt;
  if (!p.defaultsTo.empty()) {
    auto it = values.find(p.defaultsTo);
    return it == values.end() ? std::nullopt : std::optional<Value>(it->second);
  }
  return p.defaultValue;
}

std::optional<std::pair<const ParamSpec *, std::string>>
orderViolation(const LayerSpec &spec, const std::map<std::string, Value> &values) {
  for (const ParamSpec &p : spec.params) {
    if (p.above.empty())
      continue;
    auto hi = values.find(p.name), lo = values.find(p.above);
    if (hi == values.end() || lo == values.end())
      continue;
    if (!(hi->second.asDouble() > lo->second.asDouble()))
      return std::make_pair(&p, "must be greater than `" + p.above + "` (" + lo->second.str() +
                                    "), got " + hi->second.str());
  }
  return std::nullopt;
}

const std::vector<LayerSpec> &layerSpecs() {
  static const std::vector<LayerSpec> specs = buildSpecs();
  return specs;
}

const LayerSpec *findLayerSpec(const std::string &name) {
  for (const LayerSpec &s : layerSpecs())
    if (s.name == name)
      return &s;
  return nullptr;
}

const LayerSpec &layerSpecFor(LayerKind kind) {
  for (const LayerSpec &s : layerSpecs())
    if (s.kind == kind)
      return s;
  std::abort(); // internal invariant: Input has no spec and is never asked for
}

} // namespace cnnc
