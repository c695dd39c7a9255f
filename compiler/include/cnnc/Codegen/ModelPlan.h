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

#include "cnnc/DSL/LayerKind.h"
#include "cnnc/DSL/LayerSpec.h"
#include "cnnc/DSL/PadMode.h"

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace cnnc::plan {

/// Plan ops use the language's layer kinds (LayerKinds.def). `input` and
/// `project` never reach code generation (projections are materialized
/// earlier). Dropout is an alias at inference and a masking step in
/// training; so is Augment, a random warp of a network input in training,
/// and adaptive pooling to its input's size (isInferenceIdentity).
using cnnc::LayerFamily;
using cnnc::LayerKind;

/// An elementwise activation fused into the step that produces its input:
/// the kinds of the Activation family (LayerKinds.def), or none.
enum class Activation {
  None,
#define CNNC_ACTIVATION(Kind, name, from) Kind,
#include "cnnc/DSL/LayerKinds.def"
};
inline constexpr size_t kNumActivations = 1
#define CNNC_ACTIVATION(Kind, name, from) +1
#include "cnnc/DSL/LayerKinds.def"
    ;

/// "none", or the activation layer's surface name.
const char *activationName(Activation act);
/// The activation a layer of `kind` applies (None for other families).
Activation activationOf(LayerKind kind);
/// What an activation's derivative is computed from: its output y, or its
/// input x, which the training step then keeps (such an activation is not
/// fused into the step before it in training).
enum class DerivativeFrom { Output, Input };

using cnnc::PadMode;

/// How a parameter is initialized by default (LayerSpec's tensors).
using InitKind = cnnc::TensorInit;

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
  /// Where the tensor's values live: -1, a buffer of its own; else a slice
  /// of the channels of tensor `storage`, from `channelOffset` on (a concat
  /// written in place, ConcatInPlace.cpp). `storage` always names a tensor
  /// with a buffer of its own.
  int storage = -1;
  int64_t channelOffset = 0;
};

struct Param {
  std::string name;           ///< state_dict name, e.g. "layer1.0.conv1.weight"
  std::vector<int64_t> shape; ///< PyTorch order (OIHW for conv filters)
  bool buffer = false;        ///< running statistics, not trained
  bool frozen = false;
  InitKind init = InitKind::Zeros;
  int64_t fanIn = 1;
  double initValue = 0; ///< the value of a Constant init (the layer's `init`)
};

/// A parameter in the layout a step wants (Halide dimension order, innermost
/// first), computed from parameters by a prepare step.
struct Derived {
  std::string name;
  std::vector<int64_t> dims;
};

using Pair = std::array<int64_t, 2>;    ///< [h, w]
using Padding = std::array<int64_t, 4>; ///< [top, left, bottom, right]
using Range = std::array<double, 2>;    ///< [x, y] or [min, max]
using Table = std::vector<std::vector<int64_t>>;

/// Every attribute of a plan op, once: X(type, name, default, doc). Each is
/// named as the layer parameter and the op attribute it comes from
/// (LayerSpec.cpp, CNNOps.td), and the plan builder copies it by that name,
/// whatever the kind. The shared-function key (describeOp) prints all of
/// them, so two steps share a generated function only when every attribute
/// agrees (test/unit/PlanKeyTest.cpp changes each one for every kind).
#define CNNC_OP_ATTRIBUTES(X)                                                                      \
  X(Pair, kernel, (Pair{1, 1}), "windows (conv and pooling)")                                      \
  X(Pair, stride, (Pair{1, 1}), "")                                                                \
  X(Pair, dilation, (Pair{1, 1}), "")                                                              \
  X(Padding, pad, (Padding{0, 0, 0, 0}), "explicit: `same` is resolved")                           \
  X(int64_t, groups, 1, "conv, channel_shuffle")                                                   \
  X(int64_t, chunks, 1, "chunk")                                                                   \
  X(int64_t, index, 0, "chunk")                                                                    \
  X(PadMode, mode, PadMode::Zeros, "conv: the padding mode")                                       \
  X(bool, ceil, false, "pooling: ceil mode")                                                       \
  X(bool, count_include_pad, true, "avgpool")                                                      \
  X(Pair, output_size, (Pair{1, 1}), "adaptive pooling")                                           \
  X(Table, table, {}, "conv: the input channels of each filter")                                   \
  X(double, eps, 1e-5, "batchnorm, layernorm")                                                     \
  X(int64_t, num_parameters, 1, "prelu: 1 slope or one per channel")                               \
  X(std::string, over, "features", "dense: features, or channels at every pixel")                  \
  X(double, slope, 0.01, "leaky_relu")                                                             \
  X(double, min_val, -1, "hardtanh")                                                               \
  X(double, max_val, 1, "hardtanh")                                                                \
  X(std::string, approximate, "none", "gelu: none or tanh")                                        \
  X(double, factor, 1, "scale")                                                                    \
  X(int64_t, size, 5, "lrn")                                                                       \
  X(double, alpha, 1e-4, "lrn, elu")                                                               \
  X(double, beta, 0.75, "lrn")                                                                     \
  X(double, k, 1, "lrn")                                                                           \
  X(double, p, 0.5, "dropout")

/// Attributes that only the runtime reads (through the descriptor tables),
/// left out of the key on purpose: batchnorm's momentum (the running
/// statistics are updated by the runtime), and augment's ranges declared in
/// the .cnn file (the generated warp reads its maps, whatever drew them; the
/// runtime may be given other ranges; the builder puts an identity augment
/// on every image input that declares none, so any model can be augmented).
#define CNNC_OP_RUNTIME_ATTRIBUTES(X)                                                              \
  X(double, momentum, 0.1, "batchnorm")                                                            \
  X(double, init, 0, "layer_scale, prelu: their tensor's initial value (Param::initValue)")        \
  X(Range, translate, (Range{0, 0}), "augment")                                                    \
  X(double, rotate, 0, "augment")                                                                  \
  X(double, shear, 0, "augment")                                                                   \
  X(Range, scale, (Range{1, 1}), "augment")                                                        \
  X(bool, flip, false, "augment")

/// The tensors a layer owns, by the op field that holds each and its
/// state_dict suffix (LayerSpec's tensors): X(field, suffix). A tensor named
/// by the layer itself (empty suffix: layer_scale's) is its weight
/// (tensorField).
#define CNNC_OP_TENSORS(X)                                                                         \
  X(weight, "weight")                                                                              \
  X(bias, "bias")                                                                                  \
  X(mean, "running_mean")                                                                          \
  X(var, "running_var")

/// One layer as code generation sees it: all attributes resolved (`same`
/// padding is explicit, table connections listed), shapes known.
struct Op {
  LayerKind kind = LayerKind::ReLU;
  std::string layer;
  std::vector<int> inputs; ///< tensor ids
  int output = -1;         ///< tensor id
  // Parameters by role (-1 when absent).
#define CNNC_OP_TENSOR_FIELD(field, suffix) int field = -1;
  CNNC_OP_TENSORS(CNNC_OP_TENSOR_FIELD)
#undef CNNC_OP_TENSOR_FIELD
#define CNNC_OP_FIELD(Type, name, init, doc) Type name = init;
  CNNC_OP_ATTRIBUTES(CNNC_OP_FIELD)
  CNNC_OP_RUNTIME_ATTRIBUTES(CNNC_OP_FIELD)
#undef CNNC_OP_FIELD
  // Set by formSteps for conv and dense: the derived buffers of its packed
  // weights (shared by the inference and training prepare steps).
  int packed = -1, folded = -1;
};

/// What the derivative of the activation layer `op` is computed from: its
/// kind's row of LayerKinds.def, and x for a leaky_relu of negative slope
/// (whose y does not give x's sign).
DerivativeFrom derivativeFrom(const Op &op);

/// The field of `op` that holds its tensor with state_dict suffix `suffix`,
/// or nullptr.
int *tensorField(Op &op, std::string_view suffix);

/// Grad: the gradient of a parameter (same shape), written by backward steps.
enum class ArgKind { Tensor, Param, Derived, Grad };

/// What an input is to the step that reads it. The plan names every input
/// of a step and the lowering declares each by the name it expects, in
/// order, and refuses a step whose inputs differ: the order of a step's
/// arguments is a checked contract between the two, not a convention. The
/// names are also the generated functions' argument names (`grad0`, ...).
#define CNNC_ARG_SLOTS(X)                                                                          \
  X(Input, "input")                                                                                \
  X(Output, "output")                                                                              \
  X(Grad, "grad")                                                                                  \
  X(Weight, "weight")                                                                              \
  X(Bias, "bias")                                                                                  \
  X(Gamma, "gamma")                                                                                \
  X(Beta, "beta")                                                                                  \
  X(Mean, "mean")                                                                                  \
  X(Var, "var")                                                                                    \
  X(Mask, "mask")                                                                                  \
  X(Maps, "maps")                                                                                  \
  X(PackedWeight, "packed_weight")                                                                 \
  X(FoldedBias, "folded_bias")                                                                     \
  X(TransposedWeight, "transposed_weight")                                                         \
  X(BlockedWeight, "blocked_weight")                                                               \
  X(Part, "part")

enum class Slot {
  None, ///< outputs, which are the pipeline's results in order
#define CNNC_SLOT_ENUM(Name, text) Name,
  CNNC_ARG_SLOTS(CNNC_SLOT_ENUM)
#undef CNNC_SLOT_ENUM
};

const char *slotName(Slot slot);

struct Arg {
  ArgKind kind;
  int index;
  Slot slot = Slot::None;
  /// The same buffer as the input `s` of a step.
  Arg as(Slot s) const { return {kind, index, s}; }
  bool operator==(const Arg &o) const { return kind == o.kind && index == o.index; }
};

/// What a step computes. Forward and Prepare serve inference and training;
/// the others exist only in the training step (TrainingPlan.cpp).
enum class StepKind {
  Forward,
  Prepare,
  TransposeWeights, ///< conv filters with input channels innermost, for ConvGradData
  BatchNormTrain,   ///< batch statistics: outputs y, batch mean, biased batch variance
  DropoutApply,     ///< x * mask (forward and backward alike)
  AugmentApply,     ///< bilinear affine warp of a network input, one 2x3 map per sample
  ActivationGrad,   ///< dz = dy * act'(y), from the activation's output
  ConvGradData,
  ConvGradWeight,
  DenseGradData,
  DenseGradWeight,
  BatchNormGrad,
  LayerNormGrad,   ///< dx, d(weight), d(bias) of a layernorm, its statistics recomputed from x
  ChannelwiseGrad, ///< dx and d(weight) of a layer_scale or prelu
  PoolGrad,
  GlobalPoolGrad,
  AdaptivePoolGrad,
  SoftmaxGrad,
  LRNGrad,
  FlattenGrad,
  ChannelGatherGrad, ///< d(input) of a chunk or a channel shuffle: dy put back in place
  ConcatGrad,
  /// d(input) of an add or mul: the output gradient times the other inputs
  /// of a mul (none for add), summed over the pixels an input of 1x1 pixels
  /// was broadcast to
  BroadcastGrad,
  Accumulate, ///< sum of the gradient contributions of a tensor with several readers
};

const char *stepKindName(StepKind kind);

/// One generated pipeline call. `ops` lists the fused layers, the primary one
/// first. `function` names the generated Halide function; steps with the same
/// `key` (same kind, attributes and shapes) share one function.
struct Step {
  std::vector<int> ops;
  /// Applied last; its parameters are those of its layer, `ops.back()`.
  Activation activation = Activation::None;
  bool flattenInput = false; ///< dense reading a C x H x W tensor in flatten order
  StepKind kind = StepKind::Forward;
  std::vector<Arg> inputs;
  std::vector<Arg> outputs;
  std::string key;
  std::string function;
};

/// A network output: the tensor and the shape the caller sees (rank 2 or 4).
struct Output {
  std::string name;
  int tensor; ///< read by inference (dropouts resolved)
  Shape shape;
  int trainTensor = -1; ///< read by training (the tensor as the network wrote it)
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

  // The training step (TrainingPlan.cpp): prepare steps run before every
  // training forward pass; the runtime computes the loss of `lossInput`
  // (logits, N x classes) and its gradient into `lossGrad` between the
  // forward and the backward steps.
  std::vector<Step> trainPrepare;
  std::vector<Step> trainForward;
  std::vector<Step> backward;
  int lossInput = -1, lossGrad = -1;
  std::string noTrainingReason; ///< why there is no training step, when there is none
  struct DropoutMask {
    int op;     ///< the dropout op
    int tensor; ///< its mask: 0 or 1 / (1 - p) per element, filled by the runtime
  };
  std::vector<DropoutMask> dropoutMasks;
  struct Augmentation {
    int op;    ///< the augment op (its input is a network input)
    int input; ///< index into `inputs`
    int warp;  ///< tensor of 6 floats per sample (the inverse map), filled by the runtime
  };
  std::vector<Augmentation> augmentations;
  struct BatchStats {
    int op;             ///< the batchnorm op
    int mean, variance; ///< derived buffers written by its BatchNormTrain step
  };
  std::vector<BatchStats> batchStats;

  /// The distinct generated functions: one step of each key (prepare and
  /// training steps included), in first-use order.
  std::vector<const Step *> uniqueFunctions() const;
};

/// The tensor whose buffer holds tensor `t` (itself, or its `storage`).
int storageOf(const ModelPlan &plan, int t);
/// The channel count of that buffer: the stride, in floats, from one pixel
/// of `t` to the next.
int64_t storageChannels(const ModelPlan &plan, int t);

/// Groups the plan's ops into steps (fusion), creates the derived buffers and
/// prepare steps, and names the generated functions (Fusion.cpp). Called by
/// the builder once ops, tensors and params are filled in.
void formSteps(ModelPlan &plan);

/// Adds the training step: training-mode forward steps (batchnorm unfolded,
/// dropout masks), gradient tensors and backward steps (TrainingPlan.cpp).
/// Called after formSteps.
void formTrainingSteps(ModelPlan &plan);

/// The training-mode forward steps (Fusion.cpp, used by formTrainingSteps).
void formTrainingForward(ModelPlan &plan);

/// Writes concatenations in place where that is safe: each input of such a
/// concat becomes a channel slice of its output, the step that produces the
/// input writes straight into the slice, and the concat step is dropped from
/// the inference and the training forward pass (ConcatInPlace.cpp). Called
/// after formTrainingSteps; names the functions again.
void placeConcatsInPlace(ModelPlan &plan);

/// Sets every step's key and function name; steps with equal keys share a
/// function. Inference steps are named first, so their names do not depend
/// on the training step.
void nameFunctions(ModelPlan &plan);

/// How much of an op the shared-function key holds: everything (`Full`),
/// everything but its tensors' sizes (`NoShapes`, for size-generic steps),
/// or only what a step that re-lays out its parameters reads (`Parameters`:
/// the kind, whether it has a bias, and the grouping of a conv's filters),
/// or everything with its input's channels as their reductionClass
/// (`ClassOfInputChannels`, for input-channel-generic convs).
enum class OpDetail { Full, NoShapes, Parameters, ClassOfInputChannels };

/// An op's kind, shapes, bias and every attribute of CNNC_OP_ATTRIBUTES as
/// text (less with another `detail`): its part of the shared-function key.
std::string describeOp(const ModelPlan &plan, const Op &op, OpDetail detail = OpDetail::Full);

/// Whether `op` is a conv with one input channel and one filter per group
/// (its groups are its channels).
bool isDepthwise(const ModelPlan &plan, const Op &op);
/// An op whose output is its input at inference, so that the inference
/// plan aliases it instead of running it: dropout, stochastic depth and
/// augment, and adaptive pooling to the input's own size (AlexNet's and
/// VGG's at 224 x 224).
bool isInferenceIdentity(const ModelPlan &plan, const Op &op);

/// Whether `step`'s generated function serves every size of its tensors:
/// its code reads the sizes from its buffers at run time, so that a network
/// with many distinct layer shapes compiles few such functions (elementwise
/// steps, per-channel statistics, global pooling, parameter re-layouts).
/// Such a function's code may depend on its tensors' sizes only through
/// `shapeClass`, which its key holds instead of the sizes; the lowering
/// reads no other size of them (HalideLowering.h).
bool sizeGeneric(const ModelPlan &plan, const Step &step);

/// What a size-generic function may know of a tensor's shape: its rank,
/// whether its pixels are 1x1 and whether it has one channel (the
/// broadcasts of add, mul and dropout), and the largest of 16, 8, 4, 2, 1
/// not above its channel count (so that "at least a vector of channels"
/// is decided alike for every tensor of the class, for vectors of up to
/// kLargestChannelClass floats).
std::string shapeClass(const Shape &s);
inline constexpr int kLargestChannelClass = 16;

/// Whether `step` is a conv forward whose generated function serves every
/// input channel count (a dense conv: groups 1, no connection table): its
/// reduction over input channels reads its extent from the input buffer,
/// everything else keeps the step's own shapes, so that DenseNet's
/// bottleneck convs, each reading a wider concat, share one function per
/// block. Its key holds `reductionClass` instead of the input's channels.
bool inputChannelGeneric(const ModelPlan &plan, const Step &step);

/// An input-channel-generic conv's input as its key holds it: the height
/// and width, and of the channels what its schedule may know: their class
/// (shapeClass's: a vector of channels or not) and which of the reduction
/// sizes (channels x kernel taps) 4096, 8192 and 16384 they exceed (where a
/// filter tile of four vectors of 16, 8 or 4 floats outgrows 1 MiB).
std::string reductionClass(const Shape &in, const Op &conv);

/// What a step's code knows of the buffer behind its tensor argument `a`
/// beyond the tensor's shape: " within C" when the tensor is a channel
/// slice of a C-channel buffer and the function's code has that stride
/// built in, else "" (size-generic functions and an input-channel-generic
/// conv's input read every stride at run time). Part of the key and the
/// signature.
std::string storageText(const ModelPlan &plan, const Step &step, const Arg &a);

/// Everything the lowering of `step` reads, as text: its function name, its
/// key, and the kind, slot and dimensions of every argument. Two steps with
/// one signature generate the same object, in any plan: the object cache's
/// part of the key (ObjectCache.h).
std::string functionSignature(const ModelPlan &plan, const Step &step);

/// Human-readable dump (`cnnc --emit=plan`): tensors, parameters, steps.
void printPlan(std::ostream &os, const ModelPlan &plan);

} // namespace cnnc::plan

#endif // CNNC_CODEGEN_MODELPLAN_H
