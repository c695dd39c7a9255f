//===- Fusion.cpp - Grouping a plan's ops into generated steps ------------===//
//
// Decides the pipeline granularity: one Halide pipeline per step, where a
// step is one layer plus the layers it absorbs:
//   conv  [+ batchnorm] [+ activation]  (batchnorm folded into the filters)
//   dense [+ activation]                (a flatten before it is read through)
//   batchnorm / add [+ activation]
//   every other layer alone (a layernorm, layer_scale or prelu reading its
//   parameters as they are).
// At inference a dropout is an alias of its input. In training
// (`training` = true, called by TrainingPlan.cpp) a batchnorm is not folded
// (it needs its batch's statistics and the conv output for its gradient)
// and a dropout is a masking step; an augment (an alias at inference) is a
// warp of its network input.
// A layer is absorbed only when it is the single user of the tensor before it
// and that tensor is not a network output, so no fused-away tensor is ever
// needed. Per-layer pipelines keep Halide's compile time linear in the network
// (docs/codegen.md has the measurements that chose this) and let identical
// layers share one generated function.
//
//===----------------------------------------------------------------------===//
#include "ChannelPadding.h"
#include "cnnc/Codegen/ModelPlan.h"

#include <map>
#include <sstream>

namespace cnnc::plan {
namespace {

class StepFormer {
public:
  StepFormer(ModelPlan &plan, bool training)
      : plan(plan), training(training), prepare(training ? plan.trainPrepare : plan.prepare),
        steps(training ? plan.trainForward : plan.steps) {
    alias.resize(plan.tensors.size());
    for (size_t t = 0; t < alias.size(); ++t)
      alias[t] = static_cast<int>(t);
    consumed.assign(plan.ops.size(), false);
    if (!training)
      for (size_t i = 0; i < plan.ops.size(); ++i)
        if (isInferenceIdentity(plan, plan.ops[i])) {
          alias[plan.ops[i].output] = alias[plan.ops[i].inputs[0]];
          consumed[i] = true;
        }
    users.assign(plan.tensors.size(), {});
    isOutput.assign(plan.tensors.size(), false);
    for (size_t i = 0; i < plan.ops.size(); ++i)
      if (!consumed[i])
        for (int t : plan.ops[i].inputs)
          users[alias[t]].push_back(static_cast<int>(i));
    for (Output &o : plan.outputs) {
      if (!training) {
        o.trainTensor = o.tensor;
        o.tensor = alias[o.tensor];
      }
      isOutput[training ? o.trainTensor : o.tensor] = true;
    }
    producer.assign(plan.tensors.size(), -1);
    for (size_t i = 0; i < plan.ops.size(); ++i)
      producer[plan.ops[i].output] = static_cast<int>(i);
  }

  void run() {
    skipFlattensReadByDense();
    for (size_t i = 0; i < plan.ops.size(); ++i)
      if (!consumed[i])
        formStep(static_cast<int>(i));
  }

private:
  ModelPlan &plan;
  bool training;
  std::vector<Step> &prepare;
  std::vector<Step> &steps;
  std::vector<int> alias; ///< tensor -> the tensor that holds it (dropout, augment at inference)
  std::vector<std::vector<int>> users;
  std::vector<bool> isOutput;
  std::vector<bool> consumed;
  std::vector<int> producer;

  Arg tensor(int i) const { return {ArgKind::Tensor, alias[i]}; }

  /// The op that alone reads `tensor`, if the tensor is not also an output.
  int soleUser(int tensor) const {
    if (isOutput[tensor] || users[tensor].size() != 1)
      return -1;
    return users[tensor][0];
  }

  /// A flatten whose only readers are dense layers needs no step: the dense
  /// step reads the C x H x W tensor in flatten order.
  void skipFlattensReadByDense() {
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      const Op &op = plan.ops[i];
      if (op.kind != LayerKind::Flatten || isOutput[op.output] || users[op.output].empty())
        continue;
      bool allDense = true;
      for (int u : users[op.output])
        allDense &= plan.ops[u].kind == LayerKind::Dense;
      if (allDense)
        consumed[i] = true;
    }
  }

  /// Absorbs the activation that alone reads `tensor`; returns the step's
  /// output tensor.
  int absorbActivation(Step &step, int tensor) {
    int user = soleUser(alias[tensor]);
    if (user < 0 || consumed[user])
      return tensor;
    Activation act = activationOf(plan.ops[user].kind);
    // In training, an activation whose derivative needs its input keeps
    // that input: it runs as a step of its own.
    if (act == Activation::None ||
        (training && derivativeFrom(plan.ops[user]) == DerivativeFrom::Input))
      return tensor;
    step.ops.push_back(user);
    step.activation = act;
    consumed[user] = true;
    return plan.ops[user].output;
  }

  int addDerived(const std::string &name, std::vector<int64_t> dims) {
    plan.derived.push_back({name, std::move(dims)});
    return static_cast<int>(plan.derived.size()) - 1;
  }

  static Arg param(int i) { return {ArgKind::Param, i}; }
  static Arg derived(int i) { return {ArgKind::Derived, i}; }
  /// A batchnorm's parameters as the steps that apply it read them.
  static std::vector<Arg> batchNormParams(const Op &bn) {
    return {param(bn.weight).as(Slot::Gamma), param(bn.bias).as(Slot::Beta),
            param(bn.mean).as(Slot::Mean), param(bn.var).as(Slot::Var)};
  }

  /// Conv and dense steps read packed weights and a folded bias; the prepare
  /// step that computes them reads the raw parameters (and batchnorm's).
  /// Training reuses the buffers of inference (the prepare steps before the
  /// next inference call rewrite them).
  void addPackedWeights(Step &step, Op &op, const Op *bn, std::vector<int64_t> packedDims,
                        int64_t biasLength) {
    if (op.packed < 0) {
      op.packed = addDerived(op.layer + ".packed_weight", std::move(packedDims));
      op.folded = addDerived(op.layer + ".folded_bias", {biasLength});
    }
    int wp = op.packed, bf = op.folded;
    Step prep;
    prep.kind = StepKind::Prepare;
    prep.ops = {step.ops[0]};
    prep.inputs.push_back(param(op.weight).as(Slot::Weight));
    if (op.bias >= 0)
      prep.inputs.push_back(param(op.bias).as(Slot::Bias));
    if (bn) {
      prep.ops.push_back(step.ops[1]);
      for (Arg a : batchNormParams(*bn))
        prep.inputs.push_back(a);
    }
    prep.outputs = {derived(wp), derived(bf)};
    prepare.push_back(prep);
    step.inputs.push_back(derived(wp).as(Slot::PackedWeight));
    step.inputs.push_back(derived(bf).as(Slot::FoldedBias));
  }

  void formStep(int index) {
    Op &op = plan.ops[index];
    consumed[index] = true;
    Step step;
    step.ops = {index};
    int out = op.output;
    switch (op.kind) {
    case LayerKind::Conv: {
      const Op *bn = nullptr;
      int user = soleUser(out);
      if (!training && user >= 0 && plan.ops[user].kind == LayerKind::BatchNorm) {
        bn = &plan.ops[user];
        step.ops.push_back(user);
        consumed[user] = true;
        out = bn->output;
      }
      out = absorbActivation(step, out);
      step.inputs = {tensor(op.inputs[0]).as(Slot::Input)};
      const Shape &in = plan.tensors[op.inputs[0]].shape;
      int64_t filters = plan.tensors[op.output].shape.c;
      addPackedWeights(step, op, bn,
                       {packedRow(filters), in.c / op.groups, op.kernel[1], op.kernel[0]},
                       packedRow(filters));
      break;
    }
    case LayerKind::Dense: {
      int in = alias[op.inputs[0]];
      int from = producer[in];
      if (from >= 0 && plan.ops[from].kind == LayerKind::Flatten) {
        in = plan.ops[from].inputs[0];
        step.flattenInput = true;
      }
      out = absorbActivation(step, out);
      step.inputs = {tensor(in).as(Slot::Input)};
      int64_t units = plan.tensors[op.output].shape.c;
      addPackedWeights(step, op, nullptr,
                       {denseBlock(units), plan.tensors[in].shape.elements(), denseBlocks(units)},
                       denseBlock(units) * denseBlocks(units));
      break;
    }
    case LayerKind::BatchNorm:
      out = absorbActivation(step, out);
      if (training) {
        // y (and the batch's mean and biased variance, for the running
        // statistics and the gradient).
        step.kind = StepKind::BatchNormTrain;
        step.inputs = {tensor(op.inputs[0]).as(Slot::Input), param(op.weight).as(Slot::Gamma),
                       param(op.bias).as(Slot::Beta)};
        int mean = addDerived(op.layer + ".batch_mean", {plan.tensors[op.output].shape.c});
        int var = addDerived(op.layer + ".batch_var", {plan.tensors[op.output].shape.c});
        plan.batchStats.push_back({index, mean, var});
        step.outputs = {tensor(out), derived(mean), derived(var)};
        steps.push_back(step);
        return;
      }
      step.inputs = {tensor(op.inputs[0]).as(Slot::Input)};
      for (Arg a : batchNormParams(op))
        step.inputs.push_back(a);
      break;
    case LayerKind::Dropout:
    case LayerKind::StochasticDepth: {
      // Training only: the runtime fills the mask before each step, one
      // value per element, or per sample for stochastic depth.
      step.kind = StepKind::DropoutApply;
      Shape maskShape = plan.tensors[op.inputs[0]].shape;
      if (op.kind == LayerKind::StochasticDepth)
        maskShape = Shape{1, 1, 1, maskShape.rank};
      plan.tensors.push_back({op.layer + ".mask", maskShape});
      int mask = static_cast<int>(plan.tensors.size()) - 1;
      plan.dropoutMasks.push_back({index, mask});
      step.inputs = {tensor(op.inputs[0]).as(Slot::Input), Arg{ArgKind::Tensor, mask, Slot::Mask}};
      break;
    }
    case LayerKind::Augment: {
      // Training only: the runtime fills the maps (or skips the step and
      // writes the batch into the output when augmentation is off).
      step.kind = StepKind::AugmentApply;
      plan.tensors.push_back({op.layer + ".warp", Shape{6, 1, 1, 2}});
      int warp = static_cast<int>(plan.tensors.size()) - 1;
      int input = -1;
      for (size_t i = 0; i < plan.inputs.size(); ++i)
        if (plan.inputs[i].tensor == op.inputs[0])
          input = static_cast<int>(i);
      plan.augmentations.push_back({index, input, warp});
      step.inputs = {tensor(op.inputs[0]).as(Slot::Input), Arg{ArgKind::Tensor, warp, Slot::Maps}};
      break;
    }
    case LayerKind::Add:
    case LayerKind::Mul:
      out = absorbActivation(step, out);
      for (int t : op.inputs)
        step.inputs.push_back(tensor(t).as(Slot::Input));
      break;
    case LayerKind::LayerNorm:
      step.inputs = {tensor(op.inputs[0]).as(Slot::Input), param(op.weight).as(Slot::Gamma),
                     param(op.bias).as(Slot::Beta)};
      break;
    default:
      if (layerFamily(op.kind) == LayerFamily::Channelwise) {
        step.inputs = {tensor(op.inputs[0]).as(Slot::Input), param(op.weight).as(Slot::Weight)};
        break;
      }
      for (int t : op.inputs)
        step.inputs.push_back(tensor(t).as(Slot::Input));
      break;
    }
    step.outputs = {tensor(out)};
    steps.push_back(step);
  }
};

/// The key of a step: everything that changes its generated code (an op's
/// description includes its shapes; a size-generic step's holds their
/// classes instead).
std::string keyOf(const ModelPlan &plan, const Step &step) {
  std::ostringstream key;
  key.precision(17);
  bool generic = sizeGeneric(plan, step);
  bool channelGeneric = inputChannelGeneric(plan, step);
  bool relayout = step.kind == StepKind::Prepare || step.kind == StepKind::TransposeWeights;
  // The activation's parameters are in its op's description.
  key << stepKindName(step.kind) << " " << activationName(step.activation)
      << (step.flattenInput ? " flatten" : "") << (generic ? " size-generic" : "")
      << (channelGeneric ? " input-channel-generic" : "");
  // A sum of tensors, whatever produced them; a product with a mask, whatever
  // its probability (the mask holds it).
  if (step.kind != StepKind::Accumulate && step.kind != StepKind::DropoutApply)
    for (int i : step.ops) {
      // The primary op of a re-layout only supplies its parameters' layout;
      // an op fused into it (batchnorm) its attributes.
      OpDetail detail = channelGeneric && i == step.ops[0] ? OpDetail::ClassOfInputChannels
                        : !generic                         ? OpDetail::Full
                        : relayout && i == step.ops[0]     ? OpDetail::Parameters
                                                           : OpDetail::NoShapes;
      key << " | " << describeOp(plan, plan.ops[i], detail);
    }
  // A parameter's rank decides its buffer's dimensions (a dense layer over
  // channels keeps nn.Linear's 2-D weight where a conv has 4).
  auto paramRank = [&](const Arg &a) {
    if (a.kind == ArgKind::Param || a.kind == ArgKind::Grad)
      key << " rank" << plan.params[a.index].shape.size();
  };
  for (const Arg &a : step.inputs) {
    if (a.kind == ArgKind::Tensor) {
      const Shape &s = plan.tensors[a.index].shape;
      if (channelGeneric && a.slot == Slot::Input)
        key << " in " << reductionClass(s, plan.ops[step.ops[0]]);
      else
        key << " in " << (generic ? shapeClass(s) : shapeString(s));
      key << storageText(plan, step, a);
    }
    paramRank(a);
  }
  key << " ->";
  for (const Arg &a : step.outputs) {
    key << " " << static_cast<int>(a.kind);
    if (generic && a.kind == ArgKind::Tensor)
      key << " " << shapeClass(plan.tensors[a.index].shape);
    key << storageText(plan, step, a);
    paramRank(a);
  }
  return key.str();
}

} // namespace

void formSteps(ModelPlan &plan) {
  StepFormer(plan, false).run();
  nameFunctions(plan);
}

void formTrainingForward(ModelPlan &plan) { StepFormer(plan, true).run(); }

void nameFunctions(ModelPlan &plan) {
  std::map<std::string, std::string> byKey;
  std::map<std::string, int> counters;
  auto name = [&](Step &step) {
    step.key = keyOf(plan, step);
    auto it = byKey.find(step.key);
    if (it != byKey.end()) {
      step.function = it->second;
      return;
    }
    std::string base = layerKindName(plan.ops[step.ops[0]].kind);
    if (step.kind == StepKind::Prepare)
      base += "_prepare";
    else if (step.kind != StepKind::Forward)
      base = stepKindName(step.kind);
    step.function = "cnnc_" + base + "_" + std::to_string(counters[base]++);
    byKey[step.key] = step.function;
  };
  for (auto *list :
       {&plan.prepare, &plan.steps, &plan.trainPrepare, &plan.trainForward, &plan.backward})
    for (Step &s : *list)
      name(s);
}

} // namespace cnnc::plan
