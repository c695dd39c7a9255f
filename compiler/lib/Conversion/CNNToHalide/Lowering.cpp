//===- Lowering.cpp - Model plan steps to Halide pipelines ----------------===//
//
// One converter per step kind: declare the buffers of the step's arguments
// with their exact shapes (only the batch is free), call the algorithm, call
// the schedule. The argument order of every generated function is the step's
// inputs then its outputs, which is the order the runtime passes them in.
//
// A size-generic step (plan::sizeGeneric) declares its buffers with no
// sizes: its algorithm reads them from the buffers (extentsOf), and its
// schedule decides on the representative step's shapes only what their
// shapeClass, part of the function's key, fixes (vectors of channels or
// not, broadcasts). An input-channel-generic conv (plan::inputChannelGeneric)
// reads only its input's channel count from the buffers (the reduction's
// extent, the packed weight's second dimension); its schedule's use of it is
// fixed by the reductionClass in its key.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Conversion/HalideLowering.h"
#include "cnnc/Target/DeviceApi.h"

#include "Algorithms.h"
#include "GpuSchedules.h"
#include "Schedules.h"

#include <set>

using namespace Halide;

namespace cnnc {
namespace {

using plan::Arg;
using plan::ArgKind;
using plan::LayerKind;
using plan::ModelPlan;
using plan::Op;
using plan::Shape;
using plan::Slot;
using plan::Step;

class StepLowering {
public:
  StepLowering(const ModelPlan &plan, const Step &step, const Target &target)
      : plan(plan), step(step), target(target), vec(target.natural_vector_size<float>()),
        generic(plan::sizeGeneric(plan, step)),
        channelGeneric(plan::inputChannelGeneric(plan, step)), gpu(target.has_gpu_feature()) {}

  Module lower() {
    if (generic && vec > plan::kLargestChannelClass)
      throw CompileError("internal error: " + step.function + " is size-generic, but vectors of " +
                         std::to_string(vec) + " floats are wider than its channel classes");
    const Op &op = plan.ops[step.ops[0]];
    std::vector<Func> outputs;
    switch (step.kind) {
    case plan::StepKind::Forward:
      outputs = lowerForward(op);
      break;
    case plan::StepKind::Prepare:
      outputs = lowerPrepare(op);
      break;
    default:
      outputs = lowerTraining(op);
      break;
    }
    if (next != step.inputs.size() || outputs.size() != step.outputs.size())
      throw CompileError("internal error: " + step.function + " declares " + std::to_string(next) +
                         " inputs and " + std::to_string(outputs.size()) +
                         " outputs, the plan gives it " + std::to_string(step.inputs.size()) +
                         " and " + std::to_string(step.outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i)
      constrainOutput(outputs[i], step.outputs[i]);
    if (gpu)
      halide::scheduleForGpu(outputs,
                             step.outputs[0].kind == ArgKind::Tensor ? outputShape() : Shape{});
    Pipeline pipeline(outputs);
    return pipeline.compile_to_module(args, step.function, target);
  }

private:
  const ModelPlan &plan;
  const Step &step;
  const Target &target;
  int vec;
  bool generic; ///< sizes from the buffers at run time
  /// A conv's input channels from its buffers at run time (its input's
  /// innermost extent and its packed weight's second).
  bool channelGeneric;
  /// The step runs on the target's GPU: GpuSchedules.h places every Func,
  /// the CPU schedules are not applied.
  bool gpu;
  halide::Vars v;
  std::vector<Argument> args;
  size_t next = 0; ///< the next step input to declare

  /// Dimensions (innermost first) of an argument's buffer, and the strides
  /// the runtime gives it (dense).
  std::vector<int64_t> dimsOf(const Arg &a) const {
    switch (a.kind) {
    case ArgKind::Tensor: {
      const Shape &s = plan.tensors[a.index].shape;
      return {s.c, s.w, s.h, -1};
    }
    case ArgKind::Param:
    case ArgKind::Grad: {
      const auto &shape = plan.params[a.index].shape;
      return std::vector<int64_t>(shape.rbegin(), shape.rend());
    }
    case ArgKind::Derived:
      return plan.derived[a.index].dims;
    }
    return {};
  }

  /// Dense, innermost first: each stride is known up to the first extent
  /// that is not (-1: the batch, or what a generic function reads at run
  /// time). A tensor that is a channel slice of a wider buffer (a concat
  /// written in place) has that buffer's channel count as its pixel stride.
  template <typename T> void constrain(T &buffer, const std::vector<int64_t> &dims, const Arg &a) {
    int64_t stride = 1;
    bool known = true;
    for (size_t d = 0; d < dims.size(); ++d) {
      auto dim = buffer.dim(static_cast<int>(d));
      dim.set_min(0);
      if (generic) { // only the innermost stride is known
        if (d == 0)
          dim.set_stride(1);
        continue;
      }
      if (known)
        dim.set_stride(static_cast<int>(stride));
      if (dims[d] >= 0) {
        dim.set_extent(static_cast<int>(dims[d]));
        stride *=
            d == 0 && a.kind == ArgKind::Tensor ? plan::storageChannels(plan, a.index) : dims[d];
      } else {
        known = false;
      }
    }
  }

  /// The next input of the step, which must be the plan's `slot`.
  ImageParam declare(Slot slot) {
    if (next >= step.inputs.size() || step.inputs[next].slot != slot)
      throw CompileError("internal error: " + step.function + " reads its input " +
                         std::to_string(next) + " as `" + plan::slotName(slot) +
                         "`, but the plan gives it " +
                         (next < step.inputs.size()
                              ? "`" + std::string(plan::slotName(step.inputs[next].slot)) + "`"
                              : std::string("no such input")));
    const Arg &a = step.inputs[next];
    std::vector<int64_t> dims = dimsOf(a);
    if (channelGeneric && slot == Slot::Input)
      dims[0] = -1;
    if (channelGeneric && slot == Slot::PackedWeight)
      dims[1] = -1;
    ImageParam p(Float(32), static_cast<int>(dims.size()),
                 std::string(plan::slotName(slot)) + std::to_string(next));
    ++next;
    constrain(p, dims, a);
    args.push_back(p);
    return p;
  }

  void constrainOutput(Func f, const Arg &a) {
    OutputImageParam out = f.output_buffer();
    constrain(out, dimsOf(a), a);
  }

  halide::BatchNormParams declareBatchNorm(const Op &bn) {
    halide::BatchNormParams p;
    p.gamma = declare(Slot::Gamma);
    p.beta = declare(Slot::Beta);
    p.mean = declare(Slot::Mean);
    p.var = declare(Slot::Var);
    p.eps = bn.eps;
    return p;
  }

  /// The activation the step applies: the last of its ops when it has one.
  halide::ActivationLayer activationLayer() const {
    if (step.activation == plan::Activation::None)
      return {};
    return {step.activation, &plan.ops[step.ops.back()]};
  }

  const Shape &shapeOfInput(size_t i) const { return plan.tensors[step.inputs[i].index].shape; }

  /// The conv's connection table (undefined without one), embedded under a
  /// name of this function's own.
  Func connectionTable(const Op &op) const {
    return halide::connectionTable(op, tensorShape(op.inputs[0]), tensorShape(op.output),
                                   step.function + "_connection_table");
  }
  const Shape &outputShape() const { return plan.tensors[step.outputs[0].index].shape; }

  std::vector<Func> lowerPrepare(const Op &op) {
    ImageParam weight = declare(Slot::Weight);
    Func bias;
    if (op.bias >= 0)
      bias = declare(Slot::Bias);
    halide::PackedWeights p;
    const plan::Derived &packed = plan.derived[step.outputs[0].index];
    int64_t units = plan.tensors[op.output].shape.c;
    if (op.kind == LayerKind::Conv) {
      halide::BatchNormParams bn;
      bool fused = step.ops.size() > 1;
      if (fused)
        bn = declareBatchNorm(plan.ops[step.ops[1]]);
      halide::ConvWeight w = halide::convWeight(weight);
      p = halide::convPrepare(w.filters, w.w, bias, connectionTable(op), fused ? &bn : nullptr);
    } else {
      p = halide::densePrepare(units, packed.dims[0], weight, bias);
    }
    if (!gpu)
      halide::schedulePrepare(p, generic, vec);
    return {p.packed, p.folded};
  }

  const Shape &tensorShape(int t) const { return plan.tensors[t].shape; }

  /// Training-mode forward steps and gradients (Gradients.h).
  std::vector<Func> lowerTraining(const Op &op) {
    const Shape &in = op.inputs.empty() ? outputShape() : tensorShape(op.inputs[0]);
    const Shape &out = tensorShape(op.output);
    switch (step.kind) {
    case plan::StepKind::TransposeWeights: {
      ImageParam w = declare(Slot::Weight);
      const plan::Derived &t = plan.derived[step.outputs[0].index];
      if (op.kind == LayerKind::Dense) {
        Func f = halide::denseBlockFeatures(in.elements(), t.dims[0], w);
        if (!gpu)
          halide::scheduleBlockedCopy(f, vec);
        return {f};
      }
      halide::ConvWeight cw = halide::convWeight(w);
      Expr groups = plan::isDepthwise(plan, op) ? cw.filters : halide::i32(op.groups);
      Func f = halide::transposeWeightsAlgorithm(groups, cw, connectionTable(op));
      if (!gpu && generic)
        halide::scheduleRelayout(f, false, vec);
      else if (!gpu)
        halide::scheduleTranspose(f, vec);
      return {f};
    }
    case plan::StepKind::BatchNormTrain: {
      ImageParam x = declare(Slot::Input);
      ImageParam gamma = declare(Slot::Gamma);
      ImageParam beta = declare(Slot::Beta);
      halide::BatchNormTrainFuncs f = halide::batchNormTrainAlgorithm(
          v, op, x, x.dim(3).extent(), halide::extentsOf(x), gamma, beta, activationLayer());
      if (!gpu)
        halide::scheduleBatchNormTrain(v, f, in, vec);
      return {f.output, f.mean, f.var};
    }
    case plan::StepKind::DropoutApply: {
      ImageParam a = declare(Slot::Input);
      const Shape &maskShape = shapeOfInput(1);
      Func mask = halide::broadcastTo(v, declare(Slot::Mask), maskShape, in);
      Func f = halide::multiplyAlgorithm(v, a, mask);
      if (!gpu)
        halide::scheduleElementwise(v, f, in, vec);
      return {f};
    }
    case plan::StepKind::AugmentApply: {
      ImageParam images = declare(Slot::Input);
      ImageParam maps = declare(Slot::Maps);
      Func f = halide::augmentAlgorithm(v, images, maps, in);
      if (!gpu)
        halide::scheduleAugment(v, f, in, vec);
      return {f};
    }
    case plan::StepKind::ActivationGrad: {
      // y, or x for the activations whose derivative reads their input.
      bool fromInput =
          plan::derivativeFrom(plan.ops[step.ops.back()]) == plan::DerivativeFrom::Input;
      ImageParam value = declare(fromInput ? Slot::Input : Slot::Output);
      ImageParam dy = declare(Slot::Grad);
      Func f = halide::activationGradAlgorithm(v, value, dy, activationLayer());
      if (!gpu)
        halide::scheduleElementwise(v, f, shapeOfInput(0), vec);
      return {f};
    }
    case plan::StepKind::ConvGradData: {
      ImageParam dy = declare(Slot::Grad);
      ImageParam wt = declare(Slot::TransposedWeight);
      halide::ConvGradDataFuncs f = halide::convGradDataAlgorithm(v, op, dy, in, out, wt);
      if (!gpu)
        halide::scheduleConvGradData(v, f, op, out, vec);
      return {f.fold.defined() ? f.fold : f.conv.output};
    }
    case plan::StepKind::ConvGradWeight: {
      ImageParam dy = declare(Slot::Grad);
      ImageParam x = declare(Slot::Input);
      halide::WeightGradFuncs f = halide::convGradWeightAlgorithm(
          v, op, dy, x, x.dim(3).extent(), in, out, connectionTable(op), vec);
      if (!gpu)
        halide::scheduleConvWeightGrad(v, f, op, in, out, vec);
      Func weight = f.weight;
      if (plan.params[op.weight].shape.size() == 2) { // nn.Linear's shape: 1x1 filters
        Var i("i"), o("o");
        weight = Func("linear_weight_grad");
        weight(i, o) = f.weight(0, 0, i, o);
        if (!gpu)
          f.weight.compute_root(); // scheduled as an output: now the copy's input
      }
      if (op.bias >= 0)
        return {weight, f.bias};
      return {weight};
    }
    case plan::StepKind::DenseGradWeight: {
      ImageParam dy = declare(Slot::Grad);
      ImageParam x = declare(Slot::Input);
      const Shape &xs = shapeOfInput(1);
      halide::WeightGradFuncs f = halide::denseGradWeightAlgorithm(v, dy, x, x.dim(3).extent(), xs,
                                                                   out, step.flattenInput, vec);
      if (!gpu)
        halide::scheduleWeightGrad(v, f, xs.elements(), out.c, 0, false, vec);
      if (op.bias >= 0)
        return {f.weight, f.bias};
      return {f.weight};
    }
    case plan::StepKind::DenseGradData: {
      ImageParam dy = declare(Slot::Grad);
      ImageParam w = declare(Slot::BlockedWeight);
      const Shape &xs = tensorShape(step.outputs[0].index);
      int64_t block = plan.derived[step.inputs[1].index].dims[0];
      halide::DenseGradDataFuncs f = halide::denseGradDataAlgorithm(
          v, dy, dy.dim(3).extent(), xs, out, w, block, step.flattenInput);
      if (!gpu)
        halide::scheduleDenseGradData(v, f, xs, step.flattenInput, vec);
      return {step.flattenInput ? f.output : f.dense.output};
    }
    case plan::StepKind::BatchNormGrad: {
      ImageParam x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      ImageParam gamma = declare(Slot::Gamma);
      ImageParam mean = declare(Slot::Mean);
      ImageParam var = declare(Slot::Var);
      halide::BatchNormGradFuncs f = halide::batchNormGradAlgorithm(
          v, op, x, dy, x.dim(3).extent(), halide::extentsOf(x), gamma, mean, var);
      if (!gpu)
        halide::scheduleBatchNormGrad(v, f, in, vec);
      return {f.output, f.dgamma, f.dbeta};
    }
    case plan::StepKind::LayerNormGrad: {
      ImageParam x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      ImageParam gamma = declare(Slot::Gamma);
      halide::LayerNormGradFuncs f = halide::layerNormGradAlgorithm(v, op, x, dy, x.dim(3).extent(),
                                                                    halide::extentsOf(x), gamma);
      if (!gpu)
        halide::scheduleLayerNormGrad(v, f, in, vec);
      return {f.output, f.dgamma, f.dbeta};
    }
    case plan::StepKind::ChannelwiseGrad: {
      ImageParam x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      ImageParam w = declare(Slot::Weight);
      halide::ChannelwiseGradFuncs f = halide::channelwiseGradAlgorithm(
          v, op, x, dy, x.dim(3).extent(), halide::extentsOf(x), w);
      if (!gpu)
        halide::scheduleChannelwiseGrad(v, f, in, vec);
      return {f.output, f.weight};
    }
    case plan::StepKind::PoolGrad: {
      ImageParam x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      Func y;
      if (op.kind == LayerKind::L2Pool)
        y = declare(Slot::Output);
      halide::PoolGradFuncs f = halide::poolGradAlgorithm(v, op, x, dy, y, in, out);
      if (!gpu)
        halide::schedulePoolGrad(v, f, in, out, vec);
      return {f.pool.output};
    }
    case plan::StepKind::GlobalPoolGrad: {
      ImageParam dy = declare(Slot::Grad);
      Func f = halide::globalPoolGradAlgorithm(v, dy, in);
      if (!gpu)
        halide::scheduleElementwise(v, f, in, vec);
      return {f};
    }
    case plan::StepKind::AdaptivePoolGrad: {
      Func x;
      if (op.kind == LayerKind::AdaptiveMaxPool)
        x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      halide::PoolGradFuncs f = halide::adaptivePoolGradAlgorithm(v, op, x, dy, in);
      if (!gpu)
        halide::schedulePoolGrad(v, f, in, out, vec);
      return {f.pool.output};
    }
    case plan::StepKind::SoftmaxGrad: {
      ImageParam y = declare(Slot::Output);
      ImageParam dy = declare(Slot::Grad);
      halide::PoolFuncs f = halide::softmaxGradAlgorithm(v, y, dy, out);
      if (!gpu)
        halide::scheduleChannelReduction(v, f, out, vec);
      return {f.output};
    }
    case plan::StepKind::LRNGrad: {
      ImageParam x = declare(Slot::Input);
      ImageParam dy = declare(Slot::Grad);
      halide::PoolFuncs f = halide::lrnGradAlgorithm(v, op, x, dy, in);
      if (!gpu)
        halide::scheduleChannelReduction(v, f, in, vec);
      return {f.output};
    }
    case plan::StepKind::FlattenGrad: {
      ImageParam dy = declare(Slot::Grad);
      Func f = halide::flattenGradAlgorithm(v, dy, in);
      if (!gpu)
        halide::scheduleElementwise(v, f, in, vec);
      return {f};
    }
    case plan::StepKind::ChannelGatherGrad: {
      ImageParam dy = declare(Slot::Grad);
      Func f = halide::channelGatherGradAlgorithm(v, op, dy, in, out);
      if (!gpu)
        halide::scheduleElementwise(v, f, in, vec);
      return {f};
    }
    case plan::StepKind::ConcatGrad: {
      ImageParam dy = declare(Slot::Grad);
      std::vector<Func> slices = halide::concatGradAlgorithm(v, dy, op.inputs.size());
      for (size_t i = 0; i < slices.size(); ++i)
        if (!gpu)
          halide::scheduleElementwise(v, slices[i], tensorShape(op.inputs[i]), vec);
      return slices;
    }
    case plan::StepKind::BroadcastGrad: {
      // dy times the other factors of a mul, read at the output's pixels,
      // then summed to this input's shape.
      const Shape &gradShape = shapeOfInput(0);
      ImageParam dy = declare(Slot::Grad);
      std::vector<Func> factors;
      while (next < step.inputs.size()) {
        const Shape &s = shapeOfInput(next);
        factors.push_back(halide::broadcastTo(v, declare(Slot::Input), s, gradShape));
      }
      const Shape &to = outputShape();
      bool sumPixels = to.h == 1 && to.w == 1 && (gradShape.h != 1 || gradShape.w != 1);
      halide::PoolFuncs f =
          halide::broadcastGradAlgorithm(v, dy, factors, halide::extentsOf(dy), sumPixels);
      if (!gpu && f.acc.defined())
        halide::scheduleGlobalPool(v, f, outputShape(), vec);
      else if (!gpu)
        halide::scheduleElementwise(v, f.output, outputShape(), vec);
      return {f.output};
    }
    case plan::StepKind::Accumulate: {
      std::vector<Func> parts;
      while (next < step.inputs.size())
        parts.push_back(declare(Slot::Part));
      Func f = halide::addAlgorithm(v, parts, {});
      if (!gpu)
        halide::scheduleElementwise(v, f, outputShape(), vec);
      return {f};
    }
    default:
      break;
    }
    throw CompileError("no lowering for training step " +
                       std::string(plan::stepKindName(step.kind)));
  }

  std::vector<Func> lowerForward(const Op &op) {
    const Shape &out = outputShape();
    if (layerFamily(op.kind) == LayerFamily::Activation) {
      ImageParam in = declare(Slot::Input);
      Func f = halide::activationAlgorithm(v, in, {plan::activationOf(op.kind), &op});
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    if (layerFamily(op.kind) == LayerFamily::Channelwise) {
      ImageParam in = declare(Slot::Input);
      ImageParam w = declare(Slot::Weight);
      Func f = halide::channelwiseAlgorithm(v, op, in, halide::channelValues(op, w));
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    switch (op.kind) {
    case LayerKind::Conv: {
      ImageParam in = declare(Slot::Input);
      ImageParam w = declare(Slot::PackedWeight);
      ImageParam b = declare(Slot::FoldedBias);
      Expr inChannels = channelGeneric ? in.dim(0).extent() : Expr();
      halide::ConvFuncs f = halide::convAlgorithm(v, op, in, shapeOfInput(0), out, w, b,
                                                  activationLayer(), inChannels);
      if (!gpu)
        halide::scheduleConv(v, f, op, shapeOfInput(0), out, vec);
      return {f.output};
    }
    case LayerKind::Dense: {
      ImageParam in = declare(Slot::Input);
      ImageParam w = declare(Slot::PackedWeight);
      ImageParam b = declare(Slot::FoldedBias);
      int64_t block = plan.derived[step.inputs[1].index].dims[0];
      halide::DenseFuncs f = halide::denseAlgorithm(v, in, in.dim(3).extent(), shapeOfInput(0), w,
                                                    block, b, activationLayer());
      if (!gpu)
        halide::scheduleDense(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
    case LayerKind::L2Pool: {
      ImageParam in = declare(Slot::Input);
      halide::PoolFuncs f = halide::poolAlgorithm(v, op, in, shapeOfInput(0));
      if (!gpu)
        halide::schedulePool(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::GlobalAvgPool: {
      ImageParam in = declare(Slot::Input);
      halide::PoolFuncs f = halide::globalAvgPoolAlgorithm(v, in, halide::extentsOf(in));
      if (!gpu)
        halide::scheduleGlobalPool(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::AdaptiveAvgPool:
    case LayerKind::AdaptiveMaxPool: {
      ImageParam in = declare(Slot::Input);
      halide::PoolFuncs f = halide::adaptivePoolAlgorithm(v, op, in, shapeOfInput(0));
      if (!gpu)
        halide::schedulePool(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::Softmax: {
      ImageParam in = declare(Slot::Input);
      halide::PoolFuncs f = halide::softmaxAlgorithm(v, in, shapeOfInput(0));
      if (!gpu)
        halide::scheduleChannelReduction(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::LRN: {
      ImageParam in = declare(Slot::Input);
      halide::PoolFuncs f = halide::lrnAlgorithm(v, op, in, shapeOfInput(0));
      if (!gpu)
        halide::scheduleChannelReduction(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::LayerNorm: {
      ImageParam in = declare(Slot::Input);
      ImageParam gamma = declare(Slot::Gamma);
      ImageParam beta = declare(Slot::Beta);
      halide::LayerNormFuncs f =
          halide::layerNormAlgorithm(v, op, in, in.dim(0).extent(), gamma, beta);
      if (!gpu)
        halide::scheduleLayerNorm(v, f, out, vec);
      return {f.output};
    }
    case LayerKind::BatchNorm: {
      ImageParam in = declare(Slot::Input);
      halide::BatchNormParams bn = declareBatchNorm(op);
      Func f = halide::batchNormAlgorithm(v, op, in, bn, activationLayer());
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case LayerKind::Add:
    case LayerKind::Mul:
    case LayerKind::Concat: {
      std::vector<Func> inputs;
      std::vector<Expr> channels;
      while (next < step.inputs.size()) {
        const Shape &s = shapeOfInput(next);
        ImageParam input = declare(Slot::Input);
        channels.push_back(input.dim(0).extent());
        inputs.push_back(halide::broadcastTo(v, input, s, out));
      }
      Func f = op.kind == LayerKind::Concat ? halide::concatAlgorithm(v, inputs, channels)
               : op.kind == LayerKind::Add  ? halide::addAlgorithm(v, inputs, activationLayer())
                                            : halide::mulAlgorithm(v, inputs, activationLayer());
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case LayerKind::Flatten: {
      ImageParam in = declare(Slot::Input);
      Func f = halide::flattenAlgorithm(v, in, shapeOfInput(0));
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case LayerKind::Chunk:
    case LayerKind::ChannelShuffle: {
      ImageParam in = declare(Slot::Input);
      Func f = halide::channelGatherAlgorithm(v, op, in, shapeOfInput(0));
      if (!gpu)
        halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    }
    throw CompileError("no lowering for " + std::string(layerKindName(op.kind)));
  }
};

} // namespace

std::string canonicalTarget(const std::string &target, std::string &error) {
  Target t;
  if (target.empty() || target == "host") {
    t = get_host_target();
  } else if (const DeviceApi *api = deviceApiOf(target); api && target == api->name) {
    t = get_host_target().with_feature(Target::feature_from_name(api->feature));
  } else if (Target::validate_target_string(target)) {
    t = Target(target);
  } else {
    error = "unknown target '" + target +
            "' (expected 'host', 'cuda', 'opencl' or a Halide target such as "
            "x86-64-linux-avx2 or host-cuda-cuda_capability_86)";
    return "";
  }
  // Without a capability Halide would ask the GPU at compile time.
  if (t.has_feature(Target::CUDA) && t.get_cuda_capability_lower_bound() == 20)
    t = t.with_feature(Target::feature_from_name(kDefaultCudaCapability));
  for (auto f : {Target::Metal, Target::D3D12Compute, Target::OpenGLCompute, Target::HVX})
    if (t.has_feature(f)) {
      error = "target '" + target + "': cnnc generates code for the CPU, CUDA and OpenCL only";
      return "";
    }
  return t.to_string();
}

bool compileFunctions(const ModelPlan &plan, const std::vector<const Step *> &functions,
                      const std::string &targetName, const std::string &objectPath,
                      const std::string &stmtPath, std::string &error) {
  try {
    Target target = Target(targetName).with_feature(Target::NoRuntime);
    std::vector<Module> modules;
    std::set<std::string> constants;
    for (const Step *step : functions) {
      modules.push_back(StepLowering(plan, *step, target).lower());
      // link_modules keeps one of two constant buffers of the same name:
      // every function's embedded constants must be its own.
      for (const Buffer<void> &b : modules.back().buffers())
        if (!constants.insert(b.name()).second)
          throw CompileError("internal error: generated function " + step->function +
                             " embeds a constant '" + b.name() +
                             "' that another function embeds too");
    }
    Module all = link_modules("cnnc_pipelines", modules);
    std::map<OutputFileType, std::string> outputs = {{OutputFileType::object, objectPath}};
    if (!stmtPath.empty())
      outputs[OutputFileType::stmt] = stmtPath;
    all.compile(outputs);
    return true;
  } catch (const Halide::Error &e) {
    error = e.what();
    return false;
  }
}

bool compileHalideRuntime(const std::string &targetName, const std::string &objectPath,
                          std::string &error) {
  try {
    compile_standalone_runtime(objectPath, Target(targetName));
    return true;
  } catch (const Halide::Error &e) {
    error = e.what();
    return false;
  }
}

} // namespace cnnc
