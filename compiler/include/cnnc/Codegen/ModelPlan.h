//===- ModelPlan.h - What code generation builds, without MLIR or Halide -*- C++ -*-===//
//
// The model plan is the hand-off between the cnn dialect and the Halide
// lowering: the network's tensors (per-sample shapes; the batch is a run-time
// value), its parameters (PyTorch state_dict names and shapes), and a list of
// steps in execution order. A step is one generated Halide pipeline: a layer
// with the layers fused into it (a conv with the batchnorm and activation that
// follow it, a dense layer with the flatten before it...). Parameters that a
// step wants in another layout (packed conv filters, batchnorm folded into
// the conv) are `derived` buffers, computed by `prepare` steps whenever the
// parameters change, never per forward call.
//
// The plan is built from a shape-inferred `cnn` func (PlanBuilder.h), printed
// by `cnnc --emit=plan`, lowered to Halide (Conversion/HalideLowering.h) and
// written out as the descriptor tables of model.so (Target/GlueWriter.h). It
// includes neither MLIR nor Halide, so it is cheap to include and to test.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_MODELPLAN_H
#define CNNC_CODEGEN_MODELPLAN_H

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace cnnc::plan {

/// The layer kinds that reach code generation (dropout and `project` do not:
/// dropout is an alias at inference, projections are materialized earlier).
enum class OpKind {
  Conv,
  Dense,
  MaxPool,
  AvgPool,
  L2Pool,
  GlobalAvgPool,
  BatchNorm,
  LRN,
  Flatten,
  Softmax,
  ReLU,
  LeakyReLU,
  Sigmoid,
  Tanh,
  Concat,
  Add,
};

const char *opKindName(OpKind kind);

/// An elementwise activation fused into the step that produces its input.
enum class Activation { None, ReLU, LeakyReLU, Sigmoid, Tanh };

const char *activationName(Activation act);

enum class PadMode { Zeros, Replicate, Reflect };

/// How a parameter is initialized by default: PyTorch's defaults for
/// nn.Conv2d / nn.Linear (weight: kaiming_uniform_ with a = sqrt(5), i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias: the same bound) and
/// nn.BatchNorm2d (weight and running_var 1, bias and running_mean 0).
enum class InitKind { Weight, Bias, Ones, Zeros };

/// Per-sample shape of an activation: C x H x W; rank 2 tensors (after
/// flatten or dense) are C x 1 x 1 with rank 2.
struct Shape {
  int64_t c = 0, h = 1, w = 1;
  int rank = 4;
  int64_t elements() const { return c * h * w; }
  bool operator==(const Shape &o) const {
    return c == o.c && h == o.h && w == o.w && rank == o.rank;
  }
};

std::string shapeString(const Shape &s);

struct Tensor {
  std::string name;
  Shape shape;
};

struct Param {
  std::string name;           ///< state_dict name, e.g. "layer1.0.conv1.weight"
  std::vector<int64_t> shape; ///< PyTorch order (OIHW for conv filters)
  bool buffer = false;        ///< running statistics, not trained
  bool frozen = false;
  InitKind init = InitKind::Zeros;
  int64_t fanIn = 1;
};

/// A parameter in the layout a step wants (Halide dimension order, innermost
/// first), computed from parameters by a prepare step.
struct Derived {
  std::string name;
  std::vector<int64_t> dims;
};

/// One layer as code generation sees it: all attributes resolved (`same`
/// padding is explicit, table connections listed), shapes known.
struct Op {
  OpKind kind = OpKind::ReLU;
  std::string layer;
  std::vector<int> inputs; ///< tensor ids
  int output = -1;         ///< tensor id
  // Parameters by role (-1 when absent).
  int weight = -1, bias = -1, mean = -1, var = -1;
  // Windows (conv and pooling): [h, w]; padding [top, left, bottom, right].
  int64_t kernel[2] = {1, 1}, stride[2] = {1, 1}, dilation[2] = {1, 1};
  int64_t pad[4] = {0, 0, 0, 0};
  int64_t groups = 1;
  PadMode padMode = PadMode::Zeros;
  bool ceilMode = false;
  bool countIncludePad = true;
  std::vector<std::vector<int64_t>> table; ///< conv: input channels of each filter
  double epsilon = 1e-5, momentum = 0.1;   ///< batchnorm
  double slope = 0.01;                     ///< leaky_relu
  int64_t size = 5;                        ///< lrn
  double alpha = 1e-4, beta = 0.75, k = 1; ///< lrn
};

enum class ArgKind { Tensor, Param, Derived };

struct Arg {
  ArgKind kind;
  int index;
  bool operator==(const Arg &o) const { return kind == o.kind && index == o.index; }
};

/// One generated pipeline call. `ops` lists the fused layers, the primary one
/// first. `function` names the generated Halide function; steps with the same
/// `key` (same kind, attributes and shapes) share one function.
struct Step {
  std::vector<int> ops;
  Activation activation = Activation::None;
  double slope = 0.01;       ///< of a fused leaky_relu
  bool flattenInput = false; ///< dense reading a C x H x W tensor in flatten order
  bool isPrepare = false;    ///< parameters -> derived buffers, not a forward step
  std::vector<Arg> inputs;
  std::vector<Arg> outputs;
  std::string key;
  std::string function;
};

/// A network output: the tensor and the shape the caller sees (rank 2 or 4).
struct Output {
  std::string name;
  int tensor;
  Shape shape;
};

struct Input {
  std::string name;
  int tensor;
};

struct ModelPlan {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<Param> params;
  std::vector<Derived> derived;
  std::vector<Op> ops;
  std::vector<Input> inputs;
  std::vector<Output> outputs;
  std::vector<Step> prepare; ///< parameters -> derived buffers
  std::vector<Step> steps;   ///< the forward pass, in order

  /// The distinct generated functions: one step of each key (prepare steps
  /// included), in first-use order.
  std::vector<const Step *> uniqueFunctions() const;
};

/// Groups the plan's ops into steps (fusion), creates the derived buffers and
/// prepare steps, and names the generated functions (Fusion.cpp). Called by
/// the builder once ops, tensors and params are filled in.
void formSteps(ModelPlan &plan);

/// The attributes of an op that change the generated code, as text (used in
/// step keys and in the plan dump).
std::string describeOp(const ModelPlan &plan, const Op &op);

/// Human-readable dump (`cnnc --emit=plan`): tensors, parameters, steps.
void printPlan(std::ostream &os, const ModelPlan &plan);

} // namespace cnnc::plan

#endif // CNNC_CODEGEN_MODELPLAN_H
