//===- TrainingPlan.cpp - The training step of a model plan ---------------===//
//
// The training step is three lists of steps and one loss in between:
//   trainPrepare  packed filters (no batchnorm folding) and the transposed
//                 filters the conv data gradients read, every step;
//   trainForward  the forward pass in training mode (Fusion.cpp with
//                 `training`): batchnorm on batch statistics, dropout masks;
//   (the runtime: softmax cross-entropy of the first output, d(logits))
//   backward      the forward steps in reverse, each replaced by its adjoint
//                 steps: a fused activation's derivative first, then the
//                 layer's data gradient and its parameter gradient as separate
//                 steps (different loop nests; the runtime skips the ones that
//                 frozen layers make useless).
// A tensor read by several layers gets one gradient contribution from each;
// an Accumulate step sums them before the gradient is used. Add passes its
// output gradient to every input unchanged (no step).
//
//===----------------------------------------------------------------------===//
#include "ChannelPadding.h"
#include "cnnc/Codegen/ModelPlan.h"

#include <algorithm>

namespace cnnc::plan {
namespace {

class BackwardBuilder {
public:
  explicit BackwardBuilder(ModelPlan &plan) : plan(plan) {}

  void run() {
    formTrainingForward(plan);
    const Output &out = plan.outputs.at(0);
    int logits = out.trainTensor >= 0 ? out.trainTensor : out.tensor;
    const Shape &shape = plan.tensors[logits].shape;
    if (shape.h != 1 || shape.w != 1) {
      plan.noTrainingReason = "the first output '" + out.name + "' is " + shapeString(shape) +
                              " per sample; the loss needs N x classes logits";
      plan.trainPrepare.clear();
      plan.trainForward.clear();
      plan.batchStats.clear();
      plan.dropoutMasks.clear();
      plan.augmentations.clear();
      return;
    }
    size_t count = plan.tensors.size();
    contributions.assign(count, {});
    readers.assign(count, 0);
    isInput.assign(count, false);
    for (const Input &in : plan.inputs)
      isInput[in.tensor] = true;
    // An augmented input is an input as far as gradients go.
    for (const ModelPlan::Augmentation &a : plan.augmentations)
      isInput[plan.ops[a.op].output] = true;
    for (const Step &s : plan.trainForward)
      for (const Arg &a : s.inputs)
        if (a.kind == ArgKind::Tensor)
          ++readers[a.index];

    // A softmax that produces the output is fused into the loss: the
    // cross-entropy of its input's softmax is the same loss, computed stably.
    int skip = -1;
    plan.lossInput = logits;
    for (size_t i = 0; i < plan.trainForward.size(); ++i) {
      const Step &s = plan.trainForward[i];
      if (s.outputs[0].index == logits && plan.ops[s.ops[0]].kind == LayerKind::Softmax) {
        plan.lossInput = s.inputs[0].index;
        skip = static_cast<int>(i);
      }
    }
    plan.lossGrad = addTensor("d(" + plan.tensors[plan.lossInput].name + ")",
                              plan.tensors[plan.lossInput].shape);
    contributions[plan.lossInput].push_back(plan.lossGrad);
    for (int i = static_cast<int>(plan.trainForward.size()) - 1; i >= 0; --i)
      if (i != skip)
        backwardOf(plan.trainForward[i]);
  }

private:
  ModelPlan &plan;
  std::vector<std::vector<int>> contributions; ///< tensor -> its gradient contributions
  std::vector<int> readers;                    ///< tensor -> training steps reading it
  std::vector<bool> isInput; ///< network inputs and their augmented forms: no gradient

  static Arg tensor(int i) { return {ArgKind::Tensor, i}; }
  static Arg param(int i) { return {ArgKind::Param, i}; }
  static Arg derived(int i) { return {ArgKind::Derived, i}; }
  /// The gradient of parameter `p` (an output of weight gradients).
  static Arg gradOf(int p) { return {ArgKind::Grad, p}; }
  // Inputs, named by what they are to the step (ModelPlan.h's slots).
  static Arg input(int t) { return {ArgKind::Tensor, t, Slot::Input}; }
  static Arg output(int t) { return {ArgKind::Tensor, t, Slot::Output}; }
  static Arg grad(int t) { return {ArgKind::Tensor, t, Slot::Grad}; }
  static Arg weight(int p) { return {ArgKind::Param, p, Slot::Weight}; }

  int addTensor(const std::string &name, const Shape &shape) {
    plan.tensors.push_back({name, shape});
    return static_cast<int>(plan.tensors.size()) - 1;
  }

  /// A new tensor for the gradient that `layer` passes to `t`.
  int contribution(int t, const std::string &layer) {
    std::string name = "d(" + plan.tensors[t].name + ")";
    if (readers[t] > 1)
      name += " from " + layer;
    int id = addTensor(name, plan.tensors[t].shape);
    contributions[t].push_back(id);
    return id;
  }

  /// The gradient of `t`, summing its contributions when there are several;
  /// -1 when the loss does not depend on `t`.
  int gradientOf(int t, int op) {
    const std::vector<int> &parts = contributions[t];
    if (parts.empty())
      return -1;
    if (parts.size() == 1)
      return parts[0];
    Step sum;
    sum.kind = StepKind::Accumulate;
    sum.ops = {op};
    for (int p : parts)
      sum.inputs.push_back(tensor(p).as(Slot::Part));
    int total = addTensor("d(" + plan.tensors[t].name + ")", plan.tensors[t].shape);
    sum.outputs = {tensor(total)};
    plan.backward.push_back(sum);
    return total;
  }

  bool frozen(int p) const { return p < 0 || plan.params[p].frozen; }

  Step make(StepKind kind, int op, std::vector<Arg> inputs, std::vector<Arg> outputs) {
    Step s;
    s.kind = kind;
    s.ops = {op};
    s.inputs = std::move(inputs);
    s.outputs = std::move(outputs);
    return s;
  }

  void backwardOf(const Step &step) {
    int primary = step.ops[0];
    const Op &op = plan.ops[primary];
    int out = step.outputs[0].index;
    int g = gradientOf(out, step.ops.back());
    if (g < 0)
      return; // an output the loss does not read (an auxiliary head)
    if (step.activation != Activation::None) {
      Step act = make(StepKind::ActivationGrad, step.ops.back(), {output(out), grad(g)}, {});
      act.activation = step.activation;
      int dz = addTensor("d(" + plan.tensors[op.output].name + ")", plan.tensors[op.output].shape);
      act.outputs = {tensor(dz)};
      plan.backward.push_back(act);
      g = dz;
    }
    int x = step.inputs.empty() ? -1 : step.inputs[0].index;
    auto wantsData = [&](int t) { return !isInput[t]; };
    switch (step.kind) {
    case StepKind::BatchNormTrain: {
      Step s = make(StepKind::BatchNormGrad, primary,
                    {input(x), grad(g), param(op.weight).as(Slot::Gamma),
                     step.outputs[1].as(Slot::Mean), step.outputs[2].as(Slot::Var)},
                    {});
      s.outputs = {tensor(contribution(x, op.layer)), gradOf(op.weight), gradOf(op.bias)};
      plan.backward.push_back(s);
      return;
    }
    case StepKind::AugmentApply:
      return; // the warp's input is a network input: no gradient wanted
    case StepKind::DropoutApply:
      if (wantsData(x))
        plan.backward.push_back(make(StepKind::DropoutApply, primary, {input(g), step.inputs[1]},
                                     {tensor(contribution(x, op.layer))}));
      return;
    default:
      break;
    }
    switch (op.kind) {
    case LayerKind::Conv: {
      if (!frozen(op.weight)) {
        Step s = make(StepKind::ConvGradWeight, primary, {grad(g), input(x)}, {gradOf(op.weight)});
        if (op.bias >= 0)
          s.outputs.push_back(gradOf(op.bias));
        plan.backward.push_back(s);
      }
      if (wantsData(x)) {
        const Shape &in = plan.tensors[x].shape;
        int64_t perGroup = plan.tensors[op.output].shape.c / op.groups;
        // Input channels padded: the data gradient vectorizes over them.
        plan.derived.push_back({op.layer + ".transposed_weight",
                                {packedRow(in.c), perGroup, op.kernel[1], op.kernel[0]}});
        int wt = static_cast<int>(plan.derived.size()) - 1;
        plan.trainPrepare.push_back(
            make(StepKind::TransposeWeights, primary, {weight(op.weight)}, {derived(wt)}));
        plan.backward.push_back(make(StepKind::ConvGradData, primary,
                                     {grad(g), derived(wt).as(Slot::TransposedWeight)},
                                     {tensor(contribution(x, op.layer))}));
      }
      return;
    }
    case LayerKind::Dense: {
      if (!frozen(op.weight)) {
        Step s = make(StepKind::DenseGradWeight, primary, {grad(g), input(x)}, {gradOf(op.weight)});
        if (op.bias >= 0)
          s.outputs.push_back(gradOf(op.bias));
        s.flattenInput = step.flattenInput;
        plan.backward.push_back(s);
      }
      if (wantsData(x)) {
        // The filters in blocks of input features, as the forward packs
        // blocks of units: the data gradient is a dense layer over them.
        int64_t features = plan.tensors[x].shape.elements();
        int64_t units = plan.tensors[op.output].shape.c;
        plan.derived.push_back({op.layer + ".transposed_weight",
                                {denseBlock(features), units, denseBlocks(features)}});
        int wt = static_cast<int>(plan.derived.size()) - 1;
        plan.trainPrepare.push_back(
            make(StepKind::TransposeWeights, primary, {weight(op.weight)}, {derived(wt)}));
        Step s =
            make(StepKind::DenseGradData, primary, {grad(g), derived(wt).as(Slot::BlockedWeight)},
                 {tensor(contribution(x, op.layer))});
        s.flattenInput = step.flattenInput;
        plan.backward.push_back(s);
      }
      return;
    }
    case LayerKind::Add:
    case LayerKind::Mul:
      for (size_t i = 0; i < op.inputs.size(); ++i) {
        int t = op.inputs[i];
        if (!wantsData(t))
          continue;
        bool broadcast = !(plan.tensors[t].shape == plan.tensors[out].shape);
        if (op.kind == LayerKind::Add && !broadcast) { // the gradient itself
          contributions[t].push_back(g);
          continue;
        }
        // add: the gradient summed over the broadcast pixels; mul: times
        // the other factors, summed likewise.
        Step s =
            make(StepKind::BroadcastGrad, primary, {grad(g)}, {tensor(contribution(t, op.layer))});
        if (op.kind == LayerKind::Mul)
          for (size_t j = 0; j < op.inputs.size(); ++j)
            if (j != i)
              s.inputs.push_back(input(op.inputs[j]));
        plan.backward.push_back(s);
      }
      return;
    case LayerKind::Concat: {
      Step s = make(StepKind::ConcatGrad, primary, {grad(g)}, {});
      for (const Arg &a : step.inputs)
        s.outputs.push_back(tensor(isInput[a.index]
                                       ? addTensor("d(" + plan.tensors[a.index].name + ") unused",
                                                   plan.tensors[a.index].shape)
                                       : contribution(a.index, op.layer)));
      plan.backward.push_back(s);
      return;
    }
    default:
      break;
    }
    // Per-channel parameters: one step gives dx and their gradients (the
    // statistics of a layernorm recomputed from x).
    if (op.kind == LayerKind::LayerNorm) {
      Step s = make(StepKind::LayerNormGrad, primary,
                    {input(x), grad(g), param(op.weight).as(Slot::Gamma)},
                    {tensor(contribution(x, op.layer)), gradOf(op.weight), gradOf(op.bias)});
      plan.backward.push_back(s);
      return;
    }
    if (layerFamily(op.kind) == LayerFamily::Channelwise) {
      Step s = make(StepKind::ChannelwiseGrad, primary, {input(x), grad(g), weight(op.weight)},
                    {tensor(contribution(x, op.layer)), gradOf(op.weight)});
      plan.backward.push_back(s);
      return;
    }
    if (!wantsData(x))
      return;
    int dx = contribution(x, op.layer);
    if (layerFamily(op.kind) == LayerFamily::Activation) {
      Activation act = activationOf(op.kind);
      Arg from = derivativeFrom(op) == DerivativeFrom::Input ? input(x) : output(out);
      Step s = make(StepKind::ActivationGrad, primary, {from, grad(g)}, {tensor(dx)});
      s.activation = act;
      plan.backward.push_back(s);
      return;
    }
    switch (op.kind) {
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
      plan.backward.push_back(make(StepKind::PoolGrad, primary, {input(x), grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::L2Pool:
      plan.backward.push_back(
          make(StepKind::PoolGrad, primary, {input(x), grad(g), output(out)}, {tensor(dx)}));
      return;
    case LayerKind::GlobalAvgPool:
      plan.backward.push_back(make(StepKind::GlobalPoolGrad, primary, {grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::AdaptiveAvgPool:
      plan.backward.push_back(make(StepKind::AdaptivePoolGrad, primary, {grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::AdaptiveMaxPool: // recomputes each window's argmax from x
      plan.backward.push_back(
          make(StepKind::AdaptivePoolGrad, primary, {input(x), grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::Softmax:
      plan.backward.push_back(
          make(StepKind::SoftmaxGrad, primary, {output(out), grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::LRN:
      plan.backward.push_back(make(StepKind::LRNGrad, primary, {input(x), grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::Flatten:
      plan.backward.push_back(make(StepKind::FlattenGrad, primary, {grad(g)}, {tensor(dx)}));
      return;
    case LayerKind::Chunk:
    case LayerKind::ChannelShuffle:
      plan.backward.push_back(make(StepKind::ChannelGatherGrad, primary, {grad(g)}, {tensor(dx)}));
      return;
    default:
      return;
    }
  }
};

} // namespace

void formTrainingSteps(ModelPlan &plan) {
  BackwardBuilder(plan).run();
  nameFunctions(plan);
}

} // namespace cnnc::plan
