//===- Fusion.cpp - Grouping a plan's ops into generated steps ------------===//
//
// Decides the pipeline granularity: one Halide pipeline per step, where a
// step is one layer plus the layers it absorbs:
//   conv  [+ batchnorm] [+ activation]  (batchnorm folded into the filters)
//   dense [+ activation]                (a flatten before it is read through)
//   batchnorm / add [+ activation]
//   every other layer alone.
// A layer is absorbed only when it is the single user of the tensor before it
// and that tensor is not a network output, so no fused-away tensor is ever
// needed. Per-layer pipelines keep Halide's compile time linear in the network
// (docs/codegen.md has the measurements that chose this) and let identical
// layers share one generated function.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/ModelPlan.h"

#include <map>
#include <sstream>

namespace cnnc::plan {
namespace {

/// Packed buffers round output channels up to a multiple of this, so that
/// the conv and dense schedules may compute whole vectors of them (16 floats
/// is one AVX-512 vector, two AVX2 vectors).
constexpr int64_t kChannelPadding = 16;

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// The row length of a packed weight buffer: output channels rounded up to
/// whole vectors, plus one vector when the row would be a multiple of 512
/// bytes, which would map the rows read one after another in the reduction
/// onto the same few L1 cache sets (ResNet-18's 512-channel 3x3 conv ran
/// 15 % faster with the extra vector).
int64_t packedRow(int64_t channels) {
  int64_t row = roundUp(channels, kChannelPadding);
  return row % 128 == 0 ? row + kChannelPadding : row;
}

class StepFormer {
public:
  explicit StepFormer(ModelPlan &plan) : plan(plan) {
    users.assign(plan.tensors.size(), {});
    isOutput.assign(plan.tensors.size(), false);
    for (size_t i = 0; i < plan.ops.size(); ++i)
      for (int t : plan.ops[i].inputs)
        users[t].push_back(static_cast<int>(i));
    for (const Output &o : plan.outputs)
      isOutput[o.tensor] = true;
    consumed.assign(plan.ops.size(), false);
    producer.assign(plan.tensors.size(), -1);
    for (size_t i = 0; i < plan.ops.size(); ++i)
      producer[plan.ops[i].output] = static_cast<int>(i);
  }

  void run() {
    skipFlattensReadByDense();
    for (size_t i = 0; i < plan.ops.size(); ++i)
      if (!consumed[i])
        formStep(static_cast<int>(i));
    nameFunctions();
  }

private:
  ModelPlan &plan;
  std::vector<std::vector<int>> users;
  std::vector<bool> isOutput;
  std::vector<bool> consumed;
  std::vector<int> producer;

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
      if (op.kind != OpKind::Flatten || isOutput[op.output] || users[op.output].empty())
        continue;
      bool allDense = true;
      for (int u : users[op.output])
        allDense &= plan.ops[u].kind == OpKind::Dense;
      if (allDense)
        consumed[i] = true;
    }
  }

  static bool activationOf(OpKind kind, Activation &act) {
    switch (kind) {
    case OpKind::ReLU:
      act = Activation::ReLU;
      return true;
    case OpKind::LeakyReLU:
      act = Activation::LeakyReLU;
      return true;
    case OpKind::Sigmoid:
      act = Activation::Sigmoid;
      return true;
    case OpKind::Tanh:
      act = Activation::Tanh;
      return true;
    default:
      return false;
    }
  }

  /// Absorbs the activation that alone reads `tensor`; returns the step's
  /// output tensor.
  int absorbActivation(Step &step, int tensor) {
    int user = soleUser(tensor);
    Activation act;
    if (user < 0 || consumed[user] || !activationOf(plan.ops[user].kind, act))
      return tensor;
    step.ops.push_back(user);
    step.activation = act;
    step.slope = plan.ops[user].slope;
    consumed[user] = true;
    return plan.ops[user].output;
  }

  int addDerived(const std::string &name, std::vector<int64_t> dims) {
    plan.derived.push_back({name, std::move(dims)});
    return static_cast<int>(plan.derived.size()) - 1;
  }

  static Arg tensor(int i) { return {ArgKind::Tensor, i}; }
  static Arg param(int i) { return {ArgKind::Param, i}; }
  static Arg derived(int i) { return {ArgKind::Derived, i}; }

  /// Conv and dense steps read packed weights and a folded bias; the prepare
  /// step that computes them reads the raw parameters (and batchnorm's).
  void addPackedWeights(Step &step, const Op &op, const Op *bn, std::vector<int64_t> packedDims) {
    int64_t padded = packedDims[0];
    int wp = addDerived(op.layer + ".packed_weight", std::move(packedDims));
    int bf = addDerived(op.layer + ".folded_bias", {padded});
    Step prep;
    prep.isPrepare = true;
    prep.ops = {step.ops[0]};
    prep.inputs.push_back(param(op.weight));
    if (op.bias >= 0)
      prep.inputs.push_back(param(op.bias));
    if (bn) {
      prep.ops.push_back(step.ops[1]);
      for (int p : {bn->weight, bn->bias, bn->mean, bn->var})
        prep.inputs.push_back(param(p));
    }
    prep.outputs = {derived(wp), derived(bf)};
    plan.prepare.push_back(prep);
    step.inputs.push_back(derived(wp));
    step.inputs.push_back(derived(bf));
  }

  void formStep(int index) {
    const Op &op = plan.ops[index];
    consumed[index] = true;
    Step step;
    step.ops = {index};
    int out = op.output;
    switch (op.kind) {
    case OpKind::Conv: {
      const Op *bn = nullptr;
      int user = soleUser(out);
      if (user >= 0 && plan.ops[user].kind == OpKind::BatchNorm) {
        bn = &plan.ops[user];
        step.ops.push_back(user);
        consumed[user] = true;
        out = bn->output;
      }
      out = absorbActivation(step, out);
      step.inputs = {tensor(op.inputs[0])};
      const Shape &in = plan.tensors[op.inputs[0]].shape;
      int64_t filters = plan.tensors[op.output].shape.c;
      addPackedWeights(step, op, bn,
                       {packedRow(filters), in.c / op.groups, op.kernel[1], op.kernel[0]});
      break;
    }
    case OpKind::Dense: {
      int in = op.inputs[0];
      int from = producer[in];
      if (from >= 0 && plan.ops[from].kind == OpKind::Flatten) {
        in = plan.ops[from].inputs[0];
        step.flattenInput = true;
      }
      out = absorbActivation(step, out);
      step.inputs = {tensor(in)};
      int64_t units = plan.tensors[op.output].shape.c;
      addPackedWeights(step, op, nullptr, {packedRow(units), plan.tensors[in].shape.elements()});
      break;
    }
    case OpKind::BatchNorm:
      out = absorbActivation(step, out);
      step.inputs = {tensor(op.inputs[0]), param(op.weight), param(op.bias), param(op.mean),
                     param(op.var)};
      break;
    case OpKind::Add:
      out = absorbActivation(step, out);
      for (int t : op.inputs)
        step.inputs.push_back(tensor(t));
      break;
    default:
      for (int t : op.inputs)
        step.inputs.push_back(tensor(t));
      break;
    }
    step.outputs = {tensor(out)};
    plan.steps.push_back(step);
  }

  /// The key of a step: everything that changes its generated code (an op's
  /// description includes its shapes).
  std::string keyOf(const Step &step) const {
    std::ostringstream key;
    key << (step.isPrepare ? "prepare " : "") << activationName(step.activation) << " "
        << step.slope << (step.flattenInput ? " flatten" : "");
    for (int i : step.ops)
      key << " | " << describeOp(plan, plan.ops[i]);
    for (const Arg &a : step.inputs)
      if (a.kind == ArgKind::Tensor)
        key << " in " << shapeString(plan.tensors[a.index].shape);
    return key.str();
  }

  void nameFunctions() {
    std::map<std::string, std::string> byKey;
    std::map<std::string, int> counters;
    auto name = [&](Step &step) {
      step.key = keyOf(step);
      auto it = byKey.find(step.key);
      if (it != byKey.end()) {
        step.function = it->second;
        return;
      }
      std::string base = opKindName(plan.ops[step.ops[0]].kind);
      if (step.isPrepare)
        base += "_prepare";
      step.function = "cnnc_" + base + "_" + std::to_string(counters[base]++);
      byKey[step.key] = step.function;
    };
    for (Step &s : plan.prepare)
      name(s);
    for (Step &s : plan.steps)
      name(s);
  }
};

} // namespace

void formSteps(ModelPlan &plan) { StepFormer(plan).run(); }

} // namespace cnnc::plan
