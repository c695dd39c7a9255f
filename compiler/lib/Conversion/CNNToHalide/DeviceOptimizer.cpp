//===- DeviceOptimizer.cpp - The optimizer's update as GPU kernels --------===//
//
// A GPU model's parameters, gradients and optimizer state stay on the
// device: the update of each parameter is a generated kernel the runtime
// calls with views of them (ModelDescriptor.h's cnnc_device_optimizer, whose
// hyperparameter rows it documents). The formulas are the runtime's host
// ones (Training.cpp's sgdUpdate, adamUpdate: torch.optim's), in the same
// float operations. One kernel per update, every value of a tuple written by
// the thread that read the old ones, so the update is safely in place.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Conversion/HalideLowering.h"
#include "cnnc/Target/DeviceApi.h"
#include "cnnc/runtime/ModelDescriptor.h"

#include <Halide.h>

#include <cstring>

using namespace Halide;

namespace cnnc {
namespace {

/// A dense 1-D float buffer from 0.
ImageParam vector1(const char *name) {
  ImageParam p(Float(32), 1, name);
  p.dim(0).set_min(0).set_stride(1);
  return p;
}

Module lowerKernel(const DeviceKernel &k, const Target &target) {
  ImageParam w = vector1("w"), g = vector1("g"), hyper = vector1("hyper");
  hyper.dim(0).set_extent(CNNC_HYPER_COUNT);
  auto h = [&](int index) { return hyper(index); };
  Var i("i");
  Func update(k.function);
  std::vector<Argument> args = {w, g};
  if (std::strcmp(k.member, "adam") == 0) {
    ImageParam avg = vector1("exp_avg"), avgSq = vector1("exp_avg_sq");
    args.insert(args.end(), {avg, avgSq});
    Expr d = g(i) + h(CNNC_HYPER_L2) * w(i);
    Expr decayed = w(i) * h(CNNC_HYPER_DECAY);
    Expr a = avg(i) * h(CNNC_HYPER_BETA1) + (1 - h(CNNC_HYPER_BETA1)) * d;
    Expr s = avgSq(i) * h(CNNC_HYPER_BETA2) + (1 - h(CNNC_HYPER_BETA2)) * d * d;
    Expr denom = sqrt(s) / h(CNNC_HYPER_CORRECTION2_SQRT) + h(CNNC_HYPER_EPSILON);
    update(i) = Tuple(decayed - h(CNNC_HYPER_STEP_SIZE) * a / denom, a, s);
  } else {
    Expr d = g(i) + h(CNNC_HYPER_WEIGHT_DECAY) * w(i);
    if (std::strcmp(k.member, "sgd_momentum") == 0) {
      ImageParam buf = vector1("momentum_buffer");
      args.push_back(buf);
      Expr m = h(CNNC_HYPER_MOMENTUM);
      Expr b =
          select(h(CNNC_HYPER_FIRST) > 0.5f, d, m * buf(i) + (1 - h(CNNC_HYPER_DAMPENING)) * d);
      Expr step = select(h(CNNC_HYPER_NESTEROV) > 0.5f, d + m * b, b);
      update(i) = Tuple(w(i) - h(CNNC_HYPER_LR) * step, b);
    } else {
      update(i) = w(i) - h(CNNC_HYPER_LR) * d;
    }
  }
  args.push_back(hyper);
  Var block("block"), thread("thread");
  update.gpu_tile(i, block, thread, 256, TailStrategy::GuardWithIf);
  // Tuple outputs share the first one's min and extent.
  std::vector<OutputImageParam> outs = update.output_buffers();
  outs[0].dim(0).set_min(0);
  for (OutputImageParam &out : outs)
    out.dim(0).set_stride(1);
  return Pipeline(update).compile_to_module(args, k.function, target);
}

} // namespace

bool compileDeviceKernel(const std::string &targetName, const DeviceKernel &kernel,
                         const std::string &objectPath, std::string &error) {
  try {
    Target target = Target(targetName).with_feature(Target::NoRuntime);
    lowerKernel(kernel, target).compile({{OutputFileType::object, objectPath}});
    return true;
  } catch (const Halide::Error &e) {
    error = e.what();
    return false;
  }
}

} // namespace cnnc
