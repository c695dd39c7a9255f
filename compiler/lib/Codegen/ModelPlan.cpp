//===- ModelPlan.cpp - Names, keys and the printed form of a model plan ---===//
#include "cnnc/Codegen/ModelPlan.h"
#include "cnnc/Arithmetic/DimsString.h"

#include <ostream>
#include <set>
#include <sstream>

namespace cnnc::plan {

const char *stepKindName(StepKind kind) {
  switch (kind) {
  case StepKind::Forward:
    return "forward";
  case StepKind::Prepare:
    return "prepare";
  case StepKind::TransposeWeights:
    return "transpose_weights";
  case StepKind::BatchNormTrain:
    return "batchnorm_train";
  case StepKind::DropoutApply:
    return "dropout";
  case StepKind::AugmentApply:
    return "augment";
  case StepKind::ActivationGrad:
    return "activation_grad";
  case StepKind::ConvGradData:
    return "conv_grad_data";
  case StepKind::ConvGradWeight:
    return "conv_grad_weight";
  case StepKind::DenseGradData:
    return "dense_grad_data";
  case StepKind::DenseGradWeight:
    return "dense_grad_weight";
  case StepKind::BatchNormGrad:
    return "batchnorm_grad";
  case StepKind::LayerNormGrad:
    return "layernorm_grad";
  case StepKind::ChannelwiseGrad:
    return "channelwise_grad";
  case StepKind::PoolGrad:
    return "pool_grad";
  case StepKind::GlobalPoolGrad:
    return "global_pool_grad";
  case StepKind::AdaptivePoolGrad:
    return "adaptive_pool_grad";
  case StepKind::SoftmaxGrad:
    return "softmax_grad";
  case StepKind::LRNGrad:
    return "lrn_grad";
  case StepKind::FlattenGrad:
    return "flatten_grad";
  case StepKind::ChannelGatherGrad:
    return "channel_gather_grad";
  case StepKind::ConcatGrad:
    return "concat_grad";
  case StepKind::BroadcastGrad:
    return "broadcast_grad";
  case StepKind::Accumulate:
    return "accumulate";
  }
  return "?";
}

const char *slotName(Slot slot) {
  switch (slot) {
  case Slot::None:
    return "none";
#define CNNC_SLOT_NAME(Name, text)                                                                 \
  case Slot::Name:                                                                                 \
    return text;
    CNNC_ARG_SLOTS(CNNC_SLOT_NAME)
#undef CNNC_SLOT_NAME
  }
  return "?";
}

const char *activationName(Activation act) {
  switch (act) {
  case Activation::None:
    return "none";
#define CNNC_ACTIVATION(Kind, name, from)                                                          \
  case Activation::Kind:                                                                           \
    return name;
#include "cnnc/DSL/LayerKinds.def"
  }
  return "?";
}

Activation activationOf(LayerKind kind) {
  switch (kind) {
#define CNNC_ACTIVATION(Kind, name, from)                                                          \
  case LayerKind::Kind:                                                                            \
    return Activation::Kind;
#include "cnnc/DSL/LayerKinds.def"
  default:
    return Activation::None;
  }
}

DerivativeFrom derivativeFrom(const Op &op) {
  Activation act = activationOf(op.kind);
  // With a negative slope, y > 0 also for x < 0: only x tells the sides apart.
  if (act == Activation::LeakyReLU && op.slope < 0)
    return DerivativeFrom::Input;
  switch (act) {
  case Activation::None:
    return DerivativeFrom::Output;
#define CNNC_ACTIVATION(Kind, name, from)                                                          \
  case Activation::Kind:                                                                           \
    return DerivativeFrom::from;
#include "cnnc/DSL/LayerKinds.def"
  }
  return DerivativeFrom::Output;
}

std::string shapeString(const Shape &s) {
  int64_t dims[3] = {s.c, s.h, s.w};
  return dimsString(dims, s.rank == 4 ? 3 : 1);
}

namespace {

void printValue(std::ostream &os, int64_t v) { os << v; }
void printValue(std::ostream &os, double v) { os << v; }
void printValue(std::ostream &os, bool v) { os << (v ? "true" : "false"); }
void printValue(std::ostream &os, const std::string &v) { os << v; }
void printValue(std::ostream &os, PadMode m) { os << padModeName(m); }
template <typename T, size_t N> void printValue(std::ostream &os, const std::array<T, N> &a) {
  for (size_t i = 0; i < N; ++i)
    os << (i ? "," : "") << a[i];
}
void printValue(std::ostream &os, const Table &table) {
  for (const auto &row : table) {
    os << "[";
    for (size_t i = 0; i < row.size(); ++i)
      os << (i ? "," : "") << row[i];
    os << "]";
  }
}

void printArg(std::ostream &os, const ModelPlan &plan, const Arg &a) {
  switch (a.kind) {
  case ArgKind::Tensor:
    os << "%" << plan.tensors[a.index].name;
    return;
  case ArgKind::Param:
    os << "@" << plan.params[a.index].name;
    return;
  case ArgKind::Derived:
    os << "$" << plan.derived[a.index].name;
    return;
  case ArgKind::Grad:
    os << "@d(" << plan.params[a.index].name << ")";
    return;
  }
}

void printStep(std::ostream &os, const ModelPlan &plan, const Step &step) {
  os << "  " << step.function << "(";
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    os << (i ? ", " : "");
    printArg(os, plan, step.inputs[i]);
  }
  os << ") -> ";
  for (size_t i = 0; i < step.outputs.size(); ++i) {
    os << (i ? ", " : "");
    printArg(os, plan, step.outputs[i]);
  }
  os << "  [";
  for (size_t i = 0; i < step.ops.size(); ++i)
    os << (i ? " + " : "") << plan.ops[step.ops[i]].layer;
  if (step.flattenInput)
    os << ", reads its input flattened";
  os << "]\n";
}

} // namespace

int *tensorField(Op &op, std::string_view suffix) {
  if (suffix.empty()) // the layer's own name: its one learned tensor
    return &op.weight;
#define CNNC_OP_TENSOR_CASE(field, text)                                                           \
  if (suffix == text)                                                                              \
    return &op.field;
  CNNC_OP_TENSORS(CNNC_OP_TENSOR_CASE)
#undef CNNC_OP_TENSOR_CASE
  return nullptr;
}

std::string describeOp(const ModelPlan &plan, const Op &op, OpDetail detail) {
  std::ostringstream os;
  os.precision(17); // attributes that differ in their last digit must not merge
  os << layerKindName(op.kind);
  if (detail == OpDetail::Full || detail == OpDetail::ClassOfInputChannels) {
    for (int t : op.inputs) {
      const Shape &in = plan.tensors[t].shape;
      if (detail == OpDetail::ClassOfInputChannels)
        os << " " << reductionClass(in, op);
      else
        os << " " << shapeString(in);
    }
    os << " -> " << shapeString(plan.tensors[op.output].shape);
  }
  os << (op.bias >= 0 ? " bias" : " no-bias");
  if (detail == OpDetail::Parameters) {
    // A depthwise conv's groups are its channels: read at run time.
    if (isDepthwise(plan, op))
      os << " depthwise";
    else
      os << " groups=" << op.groups;
    os << (op.table.empty() ? "" : " table");
    return os.str();
  }
#define CNNC_PRINT_ATTRIBUTE(Type, name, init, doc)                                                \
  os << " " #name "=";                                                                             \
  printValue(os, op.name);
  CNNC_OP_ATTRIBUTES(CNNC_PRINT_ATTRIBUTE)
#undef CNNC_PRINT_ATTRIBUTE
  return os.str();
}

bool isInferenceIdentity(const ModelPlan &plan, const Op &op) {
  LayerFamily family = layerFamily(op.kind);
  if (family == LayerFamily::Regularizer || family == LayerFamily::Augment)
    return true;
  const Shape &in = plan.tensors[op.inputs[0]].shape, &out = plan.tensors[op.output].shape;
  return family == LayerFamily::AdaptivePool && in.h == out.h && in.w == out.w;
}

bool isDepthwise(const ModelPlan &plan, const Op &op) {
  return op.kind == LayerKind::Conv && op.groups > 1 &&
         plan.tensors[op.inputs[0]].shape.c == op.groups &&
         plan.tensors[op.output].shape.c == op.groups;
}

bool sizeGeneric(const ModelPlan &plan, const Step &step) {
  const Op &op = plan.ops[step.ops[0]];
  switch (step.kind) {
  case StepKind::Forward:
    return layerFamily(op.kind) == LayerFamily::Activation || op.kind == LayerKind::BatchNorm ||
           layerFamily(op.kind) == LayerFamily::Merge || op.kind == LayerKind::GlobalAvgPool ||
           op.kind == LayerKind::LayerNorm || layerFamily(op.kind) == LayerFamily::Channelwise;
  case StepKind::Prepare:
  case StepKind::TransposeWeights:
    // A connection table is a constant of the conv's own sizes.
    return op.kind == LayerKind::Conv && op.table.empty();
  case StepKind::BatchNormTrain:
  case StepKind::BatchNormGrad:
  case StepKind::LayerNormGrad:
  case StepKind::ChannelwiseGrad:
  case StepKind::DropoutApply:
  case StepKind::ActivationGrad:
  case StepKind::BroadcastGrad:
  case StepKind::ConcatGrad:
  case StepKind::Accumulate:
    return true;
  default:
    return false;
  }
}

/// The channel part of a shape class: the largest power of two up to
/// kLargestChannelClass not above `c`, and whether it is one channel.
static std::string channelClass(int64_t c) {
  int64_t channels = 1;
  while (channels < kLargestChannelClass && channels * 2 <= c)
    channels *= 2;
  return "c>=" + std::to_string(channels) + (c == 1 ? " one-channel" : "");
}

std::string shapeClass(const Shape &s) {
  std::string text = "rank" + std::to_string(s.rank) + " " + channelClass(s.c);
  if (s.h == 1 && s.w == 1)
    text += " 1x1";
  return text;
}

bool inputChannelGeneric(const ModelPlan &plan, const Step &step) {
  const Op &op = plan.ops[step.ops[0]];
  return step.kind == StepKind::Forward && op.kind == LayerKind::Conv && op.groups == 1 &&
         op.table.empty();
}

std::string reductionClass(const Shape &in, const Op &conv) {
  int64_t reduction = in.c * conv.kernel[0] * conv.kernel[1];
  int exceeded = 0;
  for (int64_t threshold : {4096, 8192, 16384})
    exceeded += reduction > threshold;
  return std::to_string(in.h) + "x" + std::to_string(in.w) + " in-channels " + channelClass(in.c) +
         " reduction>" + std::to_string(exceeded);
}

int storageOf(const ModelPlan &plan, int t) {
  int storage = plan.tensors[t].storage;
  return storage >= 0 ? storage : t;
}

int64_t storageChannels(const ModelPlan &plan, int t) {
  return plan.tensors[storageOf(plan, t)].shape.c;
}

std::string storageText(const ModelPlan &plan, const Step &step, const Arg &a) {
  if (a.kind != ArgKind::Tensor || plan.tensors[a.index].storage < 0 || sizeGeneric(plan, step) ||
      (a.slot == Slot::Input && inputChannelGeneric(plan, step)))
    return "";
  return " within " + std::to_string(storageChannels(plan, a.index));
}

std::string functionSignature(const ModelPlan &plan, const Step &step) {
  std::ostringstream os;
  os << "function " << step.function << "\nkey " << step.key << "\n";
  bool generic = sizeGeneric(plan, step);
  if (generic)
    os << "size-generic\n";
  bool channelGeneric = inputChannelGeneric(plan, step);
  const Op &op = plan.ops[step.ops[0]];
  if (channelGeneric)
    os << "input-channel-generic\n";
  auto printDims = [&](const std::vector<int64_t> &dims) {
    if (generic)
      os << " rank" << dims.size();
    else
      for (int64_t d : dims)
        os << " " << d;
  };
  for (const auto *args : {&step.inputs, &step.outputs}) {
    os << (args == &step.inputs ? "inputs" : "outputs");
    for (const Arg &a : *args) {
      os << " [" << static_cast<int>(a.kind) << " " << static_cast<int>(a.slot);
      switch (a.kind) {
      case ArgKind::Tensor: {
        const Shape &s = plan.tensors[a.index].shape;
        if (channelGeneric && a.slot == Slot::Input)
          os << " " << reductionClass(s, op);
        else
          os << " " << (generic ? shapeClass(s) : shapeString(s));
        os << storageText(plan, step, a);
        break;
      }
      case ArgKind::Param:
      case ArgKind::Grad:
        printDims(plan.params[a.index].shape);
        break;
      case ArgKind::Derived: {
        std::vector<int64_t> dims = plan.derived[a.index].dims;
        if (channelGeneric && a.slot == Slot::PackedWeight)
          dims[1] = -1; // the input channels, read at run time
        printDims(dims);
        break;
      }
      }
      os << "]";
    }
    os << "\n";
  }
  return os.str();
}

std::vector<const Step *> ModelPlan::uniqueFunctions() const {
  std::vector<const Step *> result;
  std::set<std::string> seen;
  for (const auto *list : {&prepare, &steps, &trainPrepare, &trainForward, &backward})
    for (const Step &s : *list)
      if (seen.insert(s.function).second)
        result.push_back(&s);
  return result;
}

void printPlan(std::ostream &os, const ModelPlan &plan) {
  os << "plan " << plan.name << "\n";
  for (const Input &in : plan.inputs)
    os << "input %" << plan.tensors[in.tensor].name << ": "
       << shapeString(plan.tensors[in.tensor].shape) << "\n";
  for (const Output &out : plan.outputs)
    os << "output " << out.name << " = %" << plan.tensors[out.tensor].name << ": "
       << shapeString(out.shape) << "\n";
  os << "prepare (when parameters change):\n";
  for (const Step &s : plan.prepare)
    printStep(os, plan, s);
  os << "forward:\n";
  for (const Step &s : plan.steps)
    printStep(os, plan, s);
  if (plan.lossInput < 0) {
    os << "training: none (" << plan.noTrainingReason << ")\n";
  } else {
    os << "training prepare (every step):\n";
    for (const Step &s : plan.trainPrepare)
      printStep(os, plan, s);
    os << "training forward:\n";
    for (const Step &s : plan.trainForward)
      printStep(os, plan, s);
    os << "loss: softmax cross-entropy of %" << plan.tensors[plan.lossInput].name << " -> %"
       << plan.tensors[plan.lossGrad].name << "\n";
    os << "backward:\n";
    for (const Step &s : plan.backward)
      printStep(os, plan, s);
  }
  bool inPlace = false;
  for (const Tensor &t : plan.tensors)
    if (t.storage >= 0) {
      if (!inPlace)
        os << "in place (channel slices of a concat's output):\n";
      inPlace = true;
      os << "  %" << t.name << " = %" << plan.tensors[t.storage].name << "[channels "
         << t.channelOffset << ".." << t.channelOffset + t.shape.c << ")\n";
    }
  os << "derived:\n";
  for (const Derived &d : plan.derived) {
    os << "  $" << d.name << ": " << dimsString(d.dims.data(), d.dims.size())
       << " (innermost first)\n";
  }
  std::set<std::string> inference;
  for (const auto *list : {&plan.prepare, &plan.steps})
    for (const Step &s : *list)
      inference.insert(s.function);
  os << "functions: " << inference.size() << " for " << plan.prepare.size() + plan.steps.size()
     << " steps; " << plan.uniqueFunctions().size() << " with the "
     << plan.trainPrepare.size() + plan.trainForward.size() + plan.backward.size()
     << " training steps\n";
}

} // namespace cnnc::plan
