//===- AdjointTiming.cpp - Per-op adjoints against propagate_adjoints ----===//
//
// The measurement behind docs/training.md's choice of hand-written per-op
// adjoints: the weight and data gradients of one conv layer, (a) as cnnc
// generates them (Gradients.cpp + GradientSchedules.cpp), (b) as Halide's
// propagate_adjoints derives them from the forward conv, scheduled by
// Halide's gradient autoscheduler (Li2018, written for such pipelines).
// Same layout (channels innermost), same shapes, JIT-compiled for the host,
// best and median of repeated calls; the gradients of both are compared.
//
//   ninja -C build cnnc-adjoint-timing && build/bin/cnnc-adjoint-timing [threads]
//
//===----------------------------------------------------------------------===//
#include "../HalideTiming.h"
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

namespace {

struct Case {
  const char *name;
  int channels, filters, size, stride, batch, kernel = 3;
};

float maxRelativeError(const Buffer<float> &a, const Buffer<float> &b) {
  float worst = 0, scale = 1e-30f;
  b.for_each_element([&](const int *pos) {
    worst = std::max(worst, std::abs(a(pos) - b(pos)));
    scale = std::max(scale, std::abs(b(pos)));
  });
  return worst / scale;
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
  plan::Shape in{k.channels, k.size, k.size, 4}, outShape{k.filters, out, out, 4};
  int vec = target.natural_vector_size<float>();

  Buffer<float> x(k.channels, k.size, k.size, k.batch), dy(k.filters, out, out, k.batch);
  Buffer<float> w(k.kernel, k.kernel, k.channels, k.filters);
  fill(x, 1);
  fill(dy, 2);
  fill(w, 3);
  // Transposed filters (cnnc's prepare step): t(i, o, kx, ky), i padded.
  int padded = (k.channels + 15) / 16 * 16;
  Buffer<float> t(padded, k.filters, k.kernel, k.kernel);
  t.fill(0.0f);
  for (int o = 0; o < k.filters; ++o)
    for (int i = 0; i < k.channels; ++i)
      for (int ky = 0; ky < k.kernel; ++ky)
        for (int kx = 0; kx < k.kernel; ++kx)
          t(i, o, kx, ky) = w(kx, ky, i, o);

  // (a) cnnc's per-op adjoints: two pipelines, as the training step runs them.
  cnnc::halide::Vars v;
  ImageParam xp(Float(32), 4, "x"), dyp(Float(32), 4, "dy"), tp(Float(32), 4, "t");
  cnnc::halide::WeightGradFuncs wg = cnnc::halide::convGradWeightAlgorithm(
      v, op, dyp, xp, xp.dim(3).extent(), in, outShape, Func(), vec);
  cnnc::halide::scheduleWeightGrad(v, wg, k.filters, k.channels, k.kernel, true, vec);
  // Exact output shapes, as cnnc's lowering declares them.
  int dims[4] = {k.kernel, k.kernel, k.channels, k.filters};
  for (int d = 0; d < 4; ++d)
    wg.weight.output_buffer().dim(d).set_min(0).set_extent(dims[d]);
  cnnc::halide::ConvGradDataFuncs dg =
      cnnc::halide::convGradDataAlgorithm(v, op, dyp, in, outShape, tp);
  cnnc::halide::scheduleConvGradData(v, dg, op, outShape, vec);
  Pipeline oursWeight(wg.weight), oursData(dg.conv.output);
  oursWeight.compile_jit(target);
  oursData.compile_jit(target);
  xp.set(x);
  dyp.set(dy);
  tp.set(t);
  Buffer<float> dwOurs(k.kernel, k.kernel, k.channels, k.filters),
      dxOurs(k.channels, k.size, k.size, k.batch);
  auto ours = [&] {
    oursWeight.realize(dwOurs);
    oursData.realize(dxOurs);
  };

  // (b) propagate_adjoints of loss = sum(conv(x, w) * dy), autoscheduled.
  Var c("c"), xx("xx"), yy("yy"), n("n"), kx("kx"), ky("ky"), i("i"), o("o");
  ImageParam xa(Float(32), 4, "xa"), wa(Float(32), 4, "wa"), dya(Float(32), 4, "dya");
  Func input("input"), weight("weight");
  input(c, xx, yy, n) = BoundaryConditions::constant_exterior(xa, 0.0f)(c, xx, yy, n);
  weight(kx, ky, i, o) = wa(kx, ky, i, o);
  RDom r(0, k.channels, 0, k.kernel, 0, k.kernel);
  Func conv("conv");
  conv(o, xx, yy, n) = 0.0f;
  conv(o, xx, yy, n) += weight(r.y, r.z, r.x, o) *
                        input(r.x, xx * k.stride + r.y - pad, yy * k.stride + r.z - pad, n);
  RDom all(0, k.filters, 0, out, 0, out, 0, k.batch);
  Func loss("loss");
  loss() = 0.0f;
  loss() += conv(all.x, all.y, all.z, all.w) * dya(all.x, all.y, all.z, all.w);
  Derivative d = propagate_adjoints(loss);
  // Pure wrappers as the outputs: the adjoint of the padded input scatters
  // onto the border too, which the output buffer does not have.
  Func dw("dw"), dx("dx");
  dw(kx, ky, i, o) = d(weight)(kx, ky, i, o);
  dx(c, xx, yy, n) = d(input)(c, xx, yy, n);
  xa.set_estimates({{0, k.channels}, {0, k.size}, {0, k.size}, {0, k.batch}});
  wa.set_estimates({{0, k.kernel}, {0, k.kernel}, {0, k.channels}, {0, k.filters}});
  dya.set_estimates({{0, k.filters}, {0, out}, {0, out}, {0, k.batch}});
  dw.set_estimates({{0, k.kernel}, {0, k.kernel}, {0, k.channels}, {0, k.filters}});
  dx.set_estimates({{0, k.channels}, {0, k.size}, {0, k.size}, {0, k.batch}});
  Pipeline autodiff({dw, dx});
  autodiff.auto_schedule("Li2018", target, MachineParams(2, 256 * 1024, 40));
  auto compileStart = std::chrono::steady_clock::now();
  autodiff.compile_jit(target);
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - compileStart).count();
  xa.set(x);
  wa.set(w);
  dya.set(dy);
  Buffer<float> dwAuto(k.kernel, k.kernel, k.channels, k.filters),
      dxAuto(k.channels, k.size, k.size, k.batch);
  auto automatic = [&] { autodiff.realize({dwAuto, dxAuto}); };

  auto [oursBest, oursMedian] = timeIt(ours, 10);
  auto weightOnly = timeIt([&] { oursWeight.realize(dwOurs); }, 10);
  auto [autoBest, autoMedian] = timeIt(automatic, 10);
  double flops =
      2.0 * 2.0 * k.filters * k.channels * k.kernel * k.kernel * out * out * k.batch; // dW + dX
  std::printf("| %s | %.2f | %.2f | %.1f | %.2f | %.2f | %.1f | %.1fx | %.1e / %.1e |\n", k.name,
              1e3 * oursBest, 1e3 * oursMedian, flops / oursBest * 1e-9, 1e3 * autoBest,
              1e3 * autoMedian, flops / autoBest * 1e-9, autoBest / oursBest,
              maxRelativeError(dwOurs, dwAuto), maxRelativeError(dxOurs, dxAuto));
  std::fprintf(stderr, "%s: cnnc's dW alone %.2f ms; autodiff pipeline JIT-compiled in %.1f s\n",
               k.name, 1e3 * weightOnly.first, compileSeconds);
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
  load_plugin(CNNC_LI2018_PLUGIN);
  Target target = get_host_target();
  std::printf("target %s, %d threads; times in ms for dW and dX together\n\n",
              target.to_string().c_str(), threads);
  std::printf("| conv (ResNet-18 shapes, batch 8) | cnnc best | median | GFLOP/s | "
              "autodiff+Li2018 best | median | GFLOP/s | cnnc faster | max rel. diff dW / dX |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  run({"64->64 3x3, 56x56", 64, 64, 56, 1, 8}, target);
  run({"64->128 3x3 stride 2, 56->28", 64, 128, 56, 2, 8}, target);
  run({"256->256 3x3, 14x14", 256, 256, 14, 1, 8}, target);
  run({"3->64 7x7 stride 2, 224->112 (the stem)", 3, 64, 224, 2, 8, 7}, target);
  return 0;
}
