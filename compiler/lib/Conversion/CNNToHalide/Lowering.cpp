//===- Lowering.cpp - Model plan steps to Halide pipelines ----------------===//
//
// One converter per step kind: declare the buffers of the step's arguments
// with their exact shapes (only the batch is free), call the algorithm, call
// the schedule. The argument order of every generated function is the step's
// inputs then its outputs, which is the order the runtime passes them in.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Conversion/HalideLowering.h"

#include "Algorithms.h"
#include "Schedules.h"

using namespace Halide;

namespace cnnc {
namespace {

using plan::Arg;
using plan::ArgKind;
using plan::ModelPlan;
using plan::Op;
using plan::OpKind;
using plan::Shape;
using plan::Step;

class StepLowering {
public:
  StepLowering(const ModelPlan &plan, const Step &step, const Target &target)
      : plan(plan), step(step), target(target), vec(target.natural_vector_size<float>()) {}

  Module lower() {
    const Op &op = plan.ops[step.ops[0]];
    std::vector<Func> outputs = step.isPrepare ? lowerPrepare(op) : lowerForward(op);
    for (size_t i = 0; i < outputs.size(); ++i)
      constrainOutput(outputs[i], step.outputs[i]);
    Pipeline pipeline(outputs);
    return pipeline.compile_to_module(args, step.function, target);
  }

private:
  const ModelPlan &plan;
  const Step &step;
  const Target &target;
  int vec;
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
    case ArgKind::Param: {
      const auto &shape = plan.params[a.index].shape;
      return std::vector<int64_t>(shape.rbegin(), shape.rend());
    }
    case ArgKind::Derived:
      return plan.derived[a.index].dims;
    }
    return {};
  }

  template <typename T> void constrain(T &buffer, const std::vector<int64_t> &dims) {
    int64_t stride = 1;
    for (size_t d = 0; d < dims.size(); ++d) {
      auto dim = buffer.dim(static_cast<int>(d));
      dim.set_min(0).set_stride(static_cast<int>(stride));
      if (dims[d] >= 0) {
        dim.set_extent(static_cast<int>(dims[d]));
        stride *= dims[d];
      }
    }
  }

  ImageParam declare(const char *role) {
    const Arg &a = step.inputs.at(next);
    std::vector<int64_t> dims = dimsOf(a);
    ImageParam p(Float(32), static_cast<int>(dims.size()),
                 std::string(role) + std::to_string(next));
    ++next;
    constrain(p, dims);
    args.push_back(p);
    return p;
  }

  void constrainOutput(Func f, const Arg &a) {
    OutputImageParam out = f.output_buffer();
    constrain(out, dimsOf(a));
  }

  halide::BatchNormParams declareBatchNorm(const Op &bn) {
    halide::BatchNormParams p;
    p.gamma = declare("gamma");
    p.beta = declare("beta");
    p.mean = declare("mean");
    p.var = declare("var");
    p.epsilon = bn.epsilon;
    return p;
  }

  const Shape &shapeOfInput(size_t i) const { return plan.tensors[step.inputs[i].index].shape; }
  const Shape &outputShape() const { return plan.tensors[step.outputs[0].index].shape; }

  std::vector<Func> lowerPrepare(const Op &op) {
    ImageParam weight = declare("weight");
    Func bias;
    if (op.bias >= 0)
      bias = declare("bias");
    halide::PackedWeights p;
    const plan::Derived &packed = plan.derived[step.outputs[0].index];
    int64_t units = plan.tensors[op.output].shape.c;
    if (op.kind == OpKind::Conv) {
      halide::BatchNormParams bn;
      bool fused = step.ops.size() > 1;
      if (fused)
        bn = declareBatchNorm(plan.ops[step.ops[1]]);
      p = halide::convPrepare(op, units, packed.dims[1], weight, bias, fused ? &bn : nullptr);
    } else {
      p = halide::densePrepare(units, weight, bias);
    }
    halide::schedulePrepare(p);
    return {p.packed, p.folded};
  }

  std::vector<Func> lowerForward(const Op &op) {
    const Shape &out = outputShape();
    switch (op.kind) {
    case OpKind::Conv: {
      ImageParam in = declare("input");
      ImageParam w = declare("packed_weight");
      ImageParam b = declare("folded_bias");
      halide::ConvFuncs f =
          halide::convAlgorithm(v, op, in, shapeOfInput(0), out, w, b, step.activation, step.slope);
      halide::scheduleConv(v, f, op, shapeOfInput(0), out, vec);
      return {f.output};
    }
    case OpKind::Dense: {
      ImageParam in = declare("input");
      ImageParam w = declare("packed_weight");
      ImageParam b = declare("folded_bias");
      halide::DenseFuncs f = halide::denseAlgorithm(v, in, in.dim(3).extent(), shapeOfInput(0), w,
                                                    b, step.activation, step.slope);
      halide::scheduleDense(v, f, out, vec);
      return {f.output};
    }
    case OpKind::MaxPool:
    case OpKind::AvgPool:
    case OpKind::L2Pool: {
      ImageParam in = declare("input");
      halide::PoolFuncs f = halide::poolAlgorithm(v, op, in, shapeOfInput(0));
      halide::schedulePool(v, f, out, vec);
      return {f.output};
    }
    case OpKind::GlobalAvgPool: {
      ImageParam in = declare("input");
      halide::PoolFuncs f = halide::globalAvgPoolAlgorithm(v, in, shapeOfInput(0));
      halide::scheduleGlobalPool(v, f, out, vec);
      return {f.output};
    }
    case OpKind::Softmax: {
      ImageParam in = declare("input");
      halide::PoolFuncs f = halide::softmaxAlgorithm(v, in, shapeOfInput(0));
      halide::scheduleChannelReduction(v, f, out, vec);
      return {f.output};
    }
    case OpKind::LRN: {
      ImageParam in = declare("input");
      halide::PoolFuncs f = halide::lrnAlgorithm(v, op, in, shapeOfInput(0));
      halide::scheduleChannelReduction(v, f, out, vec);
      return {f.output};
    }
    case OpKind::BatchNorm: {
      ImageParam in = declare("input");
      halide::BatchNormParams bn = declareBatchNorm(op);
      Func f = halide::batchNormAlgorithm(v, op, in, bn, step.activation, step.slope);
      halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case OpKind::ReLU:
    case OpKind::LeakyReLU:
    case OpKind::Sigmoid:
    case OpKind::Tanh: {
      ImageParam in = declare("input");
      plan::Activation act = op.kind == OpKind::ReLU        ? plan::Activation::ReLU
                             : op.kind == OpKind::LeakyReLU ? plan::Activation::LeakyReLU
                             : op.kind == OpKind::Sigmoid   ? plan::Activation::Sigmoid
                                                            : plan::Activation::Tanh;
      Func f = halide::activationAlgorithm(v, in, act, op.slope);
      halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case OpKind::Add:
    case OpKind::Concat: {
      std::vector<Func> inputs;
      std::vector<int64_t> channels;
      while (next < step.inputs.size()) {
        channels.push_back(shapeOfInput(next).c);
        inputs.push_back(declare("input"));
      }
      Func f = op.kind == OpKind::Add ? halide::addAlgorithm(v, inputs, step.activation, step.slope)
                                      : halide::concatAlgorithm(v, inputs, channels);
      halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    case OpKind::Flatten: {
      ImageParam in = declare("input");
      Func f = halide::flattenAlgorithm(v, in, shapeOfInput(0));
      halide::scheduleElementwise(v, f, out, vec);
      return {f};
    }
    }
    throw CompileError("no lowering for " + std::string(plan::opKindName(op.kind)));
  }
};

} // namespace

std::string canonicalTarget(const std::string &target, std::string &error) {
  if (target.empty() || target == "host")
    return get_host_target().to_string();
  if (!Target::validate_target_string(target)) {
    error = "unknown target '" + target +
            "' (expected 'host' or a Halide target such as x86-64-linux-avx2)";
    return "";
  }
  return Target(target).to_string();
}

bool compileFunctions(const ModelPlan &plan, const std::vector<const Step *> &functions,
                      const std::string &targetName, const std::string &objectPath,
                      const std::string &stmtPath, std::string &error) {
  try {
    Target target = Target(targetName).with_feature(Target::NoRuntime);
    std::vector<Module> modules;
    for (const Step *step : functions)
      modules.push_back(StepLowering(plan, *step, target).lower());
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
