//===- ConvTiming.cpp - cnnc's conv steps, one layer at a time ------------===//
//
// Times the three generated steps of a conv layer (the forward conv, the
// data gradient and the weight gradient) exactly as cnnc generates them
// (Algorithms, Gradients and their schedules), JIT-compiled for the host, on
// ResNet-18's conv shapes at batch 8 (or one given on the command line), so
// that a schedule change can be measured on the layer it is for. Prints
// best and median ms and GFLOP/s (2 x MACs / best time) of each step.
//
//   ninja -C build cnnc-conv-timing
//   build/bin/cnnc-conv-timing [threads] [C F SIZE STRIDE KERNEL BATCH]
//
//===----------------------------------------------------------------------===//
#include "../HalideTiming.h"
#include "ChannelPadding.h"
#include "Gradients.h"
#include "Schedules.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace Halide;
namespace plan = cnnc::plan;
using cnnc::bench::fill;
using cnnc::bench::timeIt;
namespace hl = cnnc::halide;

namespace {

struct Case {
  int channels, filters, size, stride, kernel, batch;
};

/// The row of packed and transposed filters, as the plan pads it.
int packedRow(int channels) { return static_cast<int>(plan::packedRow(channels)); }

void report(const char *step, const Case &k, double flops, std::pair<double, double> t) {
  std::printf("| %d->%d %dx%d s%d, %dx%d, batch %d | %s | %.2f | %.2f | %.1f |\n", k.channels,
              k.filters, k.kernel, k.kernel, k.stride, k.size, k.size, k.batch, step, 1e3 * t.first,
              1e3 * t.second, flops / t.first * 1e-9);
  std::fflush(stdout);
}

void run(const Case &k, const Target &target) {
  int pad = k.kernel / 2;
  int out = (k.size + 2 * pad - k.kernel) / k.stride + 1;
  plan::Op op;
  op.kind = plan::LayerKind::Conv;
  op.kernel[0] = op.kernel[1] = k.kernel;
  op.stride[0] = op.stride[1] = k.stride;
  for (int64_t &p : op.pad)
    p = pad;
  op.bias = -1;
  plan::Shape in{k.channels, k.size, k.size, 4}, outShape{k.filters, out, out, 4};
  int vec = target.natural_vector_size<float>();
  double flops = 2.0 * k.filters * k.channels * k.kernel * k.kernel * out * out * k.batch;

  Buffer<float> x(k.channels, k.size, k.size, k.batch), dy(k.filters, out, out, k.batch);
  Buffer<float> packed(packedRow(k.filters), k.channels, k.kernel, k.kernel);
  Buffer<float> bias(packedRow(k.filters));
  Buffer<float> t(packedRow(k.channels), k.filters, k.kernel, k.kernel);
  fill(x, 1);
  fill(dy, 2);
  fill(packed, 3);
  fill(t, 4);
  bias.fill(0.0f);
  hl::Vars v;

  hl::ConvFuncs f = hl::convAlgorithm(v, op, Func(x), in, outShape, Func(packed), Func(bias),
                                      hl::ActivationLayer{plan::Activation::ReLU, nullptr});
  hl::scheduleConv(v, f, op, in, outShape, vec);
  Pipeline forward(f.output);
  forward.compile_jit(target);
  Buffer<float> y(k.filters, out, out, k.batch);
  report("forward", k, flops, timeIt([&] { forward.realize(y); }, 10));

  if (k.channels > 4) {
    hl::ConvGradDataFuncs dg = hl::convGradDataAlgorithm(v, op, Func(dy), in, outShape, Func(t));
    hl::scheduleConvGradData(v, dg, op, outShape, vec);
    Pipeline data(dg.conv.output);
    data.compile_jit(target);
    Buffer<float> dx(k.channels, k.size, k.size, k.batch);
    report("data gradient", k, flops, timeIt([&] { data.realize(dx); }, 10));
  }

  ImageParam dyp(Float(32), 4, "dy"), xp(Float(32), 4, "x");
  hl::WeightGradFuncs wg =
      hl::convGradWeightAlgorithm(v, op, dyp, xp, xp.dim(3).extent(), in, outShape, Func(), vec);
  hl::scheduleConvWeightGrad(v, wg, op, in, outShape, vec);
  int dims[4] = {k.kernel, k.kernel, k.channels, k.filters};
  for (int d = 0; d < 4; ++d)
    wg.weight.output_buffer().dim(d).set_min(0).set_extent(dims[d]);
  Pipeline weight(wg.weight);
  weight.compile_jit(target);
  dyp.set(dy);
  xp.set(x);
  Buffer<float> dw(k.kernel, k.kernel, k.channels, k.filters);
  report("weight gradient", k, flops, timeIt([&] { weight.realize(dw); }, 10));
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
  Target target = get_host_target();
  std::printf("target %s, %d threads\n\n", target.to_string().c_str(), threads);
  std::printf("| conv | step | best ms | median ms | GFLOP/s |\n|---|---|---|---|---|\n");
  if (argc >= 8) {
    run({std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]),
         std::atoi(argv[6]), std::atoi(argv[7])},
        target);
    return 0;
  }
  // ResNet-18's convs (3x3 and the 1x1 projections), batch 8.
  for (Case k : std::vector<Case>{{64, 64, 56, 1, 3, 8},
                                  {64, 128, 56, 2, 3, 8},
                                  {64, 128, 56, 2, 1, 8},
                                  {128, 128, 28, 1, 3, 8},
                                  {128, 256, 28, 2, 3, 8},
                                  {256, 256, 14, 1, 3, 8},
                                  {256, 512, 14, 2, 3, 8},
                                  {512, 512, 7, 1, 3, 8}})
    run(k, target);
  return 0;
}
