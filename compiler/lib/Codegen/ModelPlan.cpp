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
  case StepKind::PoolGrad:
    return "pool_grad";
  case StepKind::GlobalPoolGrad:
    return "global_pool_grad";
  case StepKind::SoftmaxGrad:
    return "softmax_grad";
  case StepKind::LRNGrad:
    return "lrn_grad";
  case StepKind::FlattenGrad:
    return "flatten_grad";
  case StepKind::ConcatGrad:
    return "concat_grad";
  case StepKind::Accumulate:
    return "accumulate";
  }
  return "?";
}

const char *activationName(Activation act) {
  switch (act) {
  case Activation::None:
    return "none";
#define CNNC_ACTIVATION(Kind, name)                                                                \
  case Activation::Kind:                                                                           \
    return name;
#include "cnnc/DSL/LayerKinds.def"
  }
  return "?";
}

Activation activationOf(LayerKind kind) {
  switch (kind) {
#define CNNC_ACTIVATION(Kind, name)                                                                \
  case LayerKind::Kind:                                                                            \
    return Activation::Kind;
#include "cnnc/DSL/LayerKinds.def"
  default:
    return Activation::None;
  }
}

std::string shapeString(const Shape &s) {
  int64_t dims[3] = {s.c, s.h, s.w};
  return dimsString(dims, s.rank == 4 ? 3 : 1);
}

namespace {

const char *padModeName(PadMode m) {
  switch (m) {
  case PadMode::Zeros:
    return "zeros";
  case PadMode::Replicate:
    return "replicate";
  case PadMode::Reflect:
    return "reflect";
  }
  return "?";
}

void printWindow(std::ostream &os, const Op &op, bool withDilation) {
  os << " kernel=" << op.kernel[0] << "x" << op.kernel[1] << " stride=" << op.stride[0] << "x"
     << op.stride[1] << " pad=" << op.pad[0] << "," << op.pad[1] << "," << op.pad[2] << ","
     << op.pad[3];
  if (withDilation)
    os << " dilation=" << op.dilation[0] << "x" << op.dilation[1];
  if (op.ceilMode)
    os << " ceil";
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

std::string describeOp(const ModelPlan &plan, const Op &op) {
  std::ostringstream os;
  os << layerKindName(op.kind);
  for (int t : op.inputs)
    os << " " << shapeString(plan.tensors[t].shape);
  os << " -> " << shapeString(plan.tensors[op.output].shape);
  switch (op.kind) {
  case LayerKind::Conv:
    printWindow(os, op, true);
    os << " groups=" << op.groups << " mode=" << padModeName(op.padMode)
       << (op.bias >= 0 ? " bias" : " no-bias");
    if (!op.table.empty()) {
      os << " table=";
      for (const auto &row : op.table) {
        os << "[";
        for (size_t i = 0; i < row.size(); ++i)
          os << (i ? "," : "") << row[i];
        os << "]";
      }
    }
    break;
  case LayerKind::Dense:
    os << (op.bias >= 0 ? " bias" : " no-bias");
    break;
  case LayerKind::MaxPool:
    printWindow(os, op, true);
    break;
  case LayerKind::AvgPool:
    printWindow(os, op, false);
    os << (op.countIncludePad ? " count-pad" : " exclude-pad");
    break;
  case LayerKind::L2Pool:
    printWindow(os, op, false);
    break;
  case LayerKind::BatchNorm:
    os << " eps=" << op.epsilon;
    break;
  case LayerKind::LRN:
    os << " size=" << op.size << " alpha=" << op.alpha << " beta=" << op.beta << " k=" << op.k;
    break;
  case LayerKind::LeakyReLU:
    os << " slope=" << op.slope;
    break;
  case LayerKind::Dropout:
    os << " p=" << op.p;
    break;
  case LayerKind::Augment:
    // Not the ranges: the generated warp reads its maps, whatever drew them.
    break;
  default:
    break;
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
