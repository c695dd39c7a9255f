//===- ConcatInPlace.cpp - Concatenations written where they end up ------===//
//
// A concat step copies its inputs into one tensor: an inception module's
// four branches, and in a DenseNet block, where every layer concatenates
// everything the block has so far, a copy of the whole growing tensor per
// layer. Written in place, each input is a channel slice of the concat's
// output: the step that produces the input writes straight into the slice
// (its buffer's pixels are the output's channel count apart, channels
// innermost) and the concat step goes. An input that is itself the output
// of a concat written in place takes its slices along, so a DenseNet block
// is one buffer that its layers fill.
//
// A concat is written in place only as a whole, and only when every input
// is a tensor that a generated step writes, once, before the concat, in
// both the inference and the training forward pass (the same tensors in
// both): not a network input or an augmented one (the runtime writes
// those), not a network output or the loss's logits (the runtime reads
// those as dense tensors), not a slice of another concat already, and not
// twice in this one. The concat's gradient is unchanged: its backward step
// still splits d(output) into the inputs' gradients.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/ModelPlan.h"

#include <algorithm>
#include <set>

namespace cnnc::plan {
namespace {

class ConcatPlacer {
public:
  explicit ConcatPlacer(ModelPlan &plan) : plan(plan) {
    for (const Input &in : plan.inputs)
      runtimeTensors.insert(in.tensor);
    for (const auto &a : plan.augmentations)
      runtimeTensors.insert(plan.ops[a.op].output);
    for (const Output &out : plan.outputs) {
      runtimeTensors.insert(out.tensor);
      runtimeTensors.insert(out.trainTensor);
    }
    runtimeTensors.insert(plan.lossInput);
    for (const auto &d : plan.dropoutMasks)
      runtimeTensors.insert(d.tensor);
  }

  void run() {
    std::set<size_t> dropped[2]; // of plan.steps, of plan.trainForward
    bool hasTraining = plan.lossInput >= 0;
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      if (plan.ops[i].kind != LayerKind::Concat)
        continue;
      int inference = concatStep(plan.steps, static_cast<int>(i));
      int training = hasTraining ? concatStep(plan.trainForward, static_cast<int>(i)) : -1;
      if (inference < 0 || (hasTraining && training < 0))
        continue;
      const Step &step = plan.steps[inference];
      if (hasTraining && !(plan.trainForward[training].inputs == step.inputs))
        continue;
      if (!placeable(step, inference, training))
        continue;
      place(step);
      dropped[0].insert(inference);
      if (hasTraining)
        dropped[1].insert(training);
    }
    std::vector<Step> *lists[2] = {&plan.steps, &plan.trainForward};
    for (int l = 0; l < 2; ++l) {
      std::vector<Step> kept;
      for (size_t s = 0; s < lists[l]->size(); ++s)
        if (!dropped[l].count(s))
          kept.push_back(std::move((*lists[l])[s]));
      *lists[l] = std::move(kept);
    }
  }

private:
  ModelPlan &plan;
  std::set<int> runtimeTensors; ///< written or read by the runtime itself

  /// The index in `list` of the step that is the concat `op` and nothing
  /// else, or -1.
  static int concatStep(const std::vector<Step> &list, int op) {
    for (size_t s = 0; s < list.size(); ++s)
      if (list[s].kind == StepKind::Forward && list[s].ops[0] == op)
        return list[s].ops.size() == 1 && list[s].activation == Activation::None
                   ? static_cast<int>(s)
                   : -1;
    return -1;
  }

  /// The steps of `list` that write tensor `t`, in order.
  static std::vector<size_t> writers(const std::vector<Step> &list, int t) {
    std::vector<size_t> result;
    for (size_t s = 0; s < list.size(); ++s)
      for (const Arg &a : list[s].outputs)
        if (a.kind == ArgKind::Tensor && a.index == t)
          result.push_back(s);
    return result;
  }

  /// Whether `t` is written by exactly one step of `list`, before step
  /// `concat` (for the output of a concat written in place: that concat's
  /// step, which is dropped once all are placed).
  static bool writtenOnceBefore(const std::vector<Step> &list, int t, int concat) {
    std::vector<size_t> w = writers(list, t);
    return w.size() == 1 && w[0] < static_cast<size_t>(concat);
  }

  /// Whether every input of the concat `step` (at `inference` in the
  /// forward pass, `training` in the training one or -1) may be a slice.
  bool placeable(const Step &step, int inference, int training) const {
    int out = step.outputs[0].index;
    std::set<int> seen;
    for (const Arg &a : step.inputs) {
      int t = a.index;
      if (a.kind != ArgKind::Tensor || t == out || !seen.insert(t).second ||
          runtimeTensors.count(t) || plan.tensors[t].storage >= 0 ||
          plan.tensors[t].shape.rank != plan.tensors[out].shape.rank)
        return false;
      if (!writtenOnceBefore(plan.steps, t, inference) ||
          (training >= 0 && !writtenOnceBefore(plan.trainForward, t, training)))
        return false;
      for (const auto *list : {&plan.prepare, &plan.trainPrepare, &plan.backward})
        if (!writers(*list, t).empty())
          return false;
    }
    return true;
  }

  void place(const Step &concat) {
    int out = concat.outputs[0].index;
    int64_t offset = 0;
    for (const Arg &a : concat.inputs) {
      int t = a.index;
      for (Tensor &slice : plan.tensors)
        if (slice.storage == t) {
          slice.storage = out;
          slice.channelOffset += offset;
        }
      plan.tensors[t].storage = out;
      plan.tensors[t].channelOffset = offset;
      offset += plan.tensors[t].shape.c;
    }
  }
};

} // namespace

void placeConcatsInPlace(ModelPlan &plan) {
  ConcatPlacer(plan).run();
  nameFunctions(plan);
}

} // namespace cnnc::plan
