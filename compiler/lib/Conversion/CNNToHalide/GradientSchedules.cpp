//===- GradientSchedules.cpp - CPU schedules of the training steps --------===//
//
// The same principles as the forward schedules (Schedules.cpp): channels
// vectorized, register tiles for the multiply-adds, rows or tiles in
// parallel. A parameter gradient is a reduction over the batch and the
// pixels with little pure parallelism per element, so its tiles of
// (filters x input channels x taps) are the parallel tasks, each keeping a
// small block of accumulators in registers over the whole reduction.
//
//===----------------------------------------------------------------------===//
#include "Schedules.h"

#include <algorithm>

using namespace Halide;

namespace cnnc::halide {

using plan::Shape;

namespace {

/// Per-row partial sums over a row's pixels of every image (parallel over
/// rows, vectorized over channels), then their per-channel totals.
void scheduleChannelSum(const Vars &v, ChannelSum &s, int64_t channels, int vec) {
  Func rows = s.rows, total = s.total;
  rows.compute_root();
  rows.update().parallel(v.y);
  total.compute_root();
  if (channels >= vec) {
    rows.vectorize(v.c, vec, TailStrategy::ShiftInwards);
    rows.update().vectorize(v.c, vec, TailStrategy::GuardWithIf);
    total.update().vectorize(v.c, vec, TailStrategy::GuardWithIf);
  }
}

/// The largest of 4, 3, 2, 1 that divides `n`.
int divisorTile(int64_t n) {
  for (int t : {4, 3, 2})
    if (n % t == 0)
      return t;
  return 1;
}

} // namespace

void scheduleBatchNormTrain(const Vars &v, BatchNormTrainFuncs &f, const Shape &shape, int vec) {
  scheduleChannelSum(v, f.sum, shape.c, vec);
  scheduleChannelSum(v, f.squares, shape.c, vec);
  scheduleElementwise(v, f.output, shape, vec);
}

void scheduleBatchNormGrad(const Vars &v, BatchNormGradFuncs &f, const Shape &shape, int vec) {
  scheduleChannelSum(v, f.sum, shape.c, vec);
  scheduleChannelSum(v, f.dot, shape.c, vec);
  scheduleElementwise(v, f.output, shape, vec);
}

// The per-pixel statistics once, for all rows in parallel (the parameter
// sums read them at every pixel); dx's per-pixel sums at its pixels.
void scheduleLayerNormGrad(const Vars &v, LayerNormGradFuncs &f, const Shape &shape, int vec) {
  for (Func stat : {f.stats.sum, f.stats.squares}) {
    stat.compute_root().parallel(v.y);
    stat.update().parallel(v.y);
  }
  f.gSum.compute_at(f.output, v.x);
  f.gDot.compute_at(f.output, v.x);
  scheduleChannelSum(v, f.dot, shape.c, vec);
  scheduleChannelSum(v, f.sum, shape.c, vec);
  scheduleElementwise(v, f.output, shape, vec);
}

void scheduleChannelwiseGrad(const Vars &v, ChannelwiseGradFuncs &f, const Shape &shape, int vec) {
  scheduleChannelSum(v, f.sum, shape.c, vec);
  scheduleElementwise(v, f.output, shape, vec);
}

void scheduleConvGradData(const Vars &v, ConvGradDataFuncs &f, const plan::Op &op, const Shape &dy,
                          int vec) {
  if (f.phases.empty()) {
    scheduleConv(v, f.conv, op, dy, f.domain, vec);
  } else {
    // Each phase a conv of its own; the output interleaves them, split by
    // the strides so that every unrolled (x, y) reads one phase.
    for (size_t i = 0; i < f.phases.size(); ++i) {
      ConvFuncs &p = f.phases[i];
      if (p.conv.defined())
        scheduleConv(v, p, f.phaseOps[i], dy, f.phaseShapes[i], vec);
      p.output.compute_root();
    }
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), t("t");
    f.conv.output.split(v.x, xo, xi, static_cast<int>(op.stride[1]), TailStrategy::GuardWithIf)
        .split(v.y, yo, yi, static_cast<int>(op.stride[0]), TailStrategy::GuardWithIf)
        .reorder(v.c, xi, xo, yi, yo, v.n)
        .unroll(xi)
        .unroll(yi)
        .fuse(yo, v.n, t)
        .parallel(t);
    if (f.domain.c >= vec)
      f.conv.output.vectorize(v.c, vec, TailStrategy::ShiftInwards);
  }
  if (!f.fold.defined())
    return;
  f.conv.output.compute_root();
  f.fold.parallel(v.n);
  f.fold.update().parallel(v.n);
  if (f.domain.c >= vec) {
    f.fold.vectorize(v.c, vec, TailStrategy::ShiftInwards);
    f.fold.update().vectorize(v.c, vec, TailStrategy::GuardWithIf);
  }
}

// A tile of 2 vectors of filters x up to 4 input channels (8 accumulators)
// per task and tap, the reduction over the batch's pixels inside it.
void scheduleWeightGrad(const Vars &v, WeightGradFuncs &f, int64_t outer, int64_t inner,
                        int64_t taps, bool separateOutput, int vec) {
  // (filter, input, kx, ky) for a conv, (feature, unit) for a dense layer:
  // the first vectorized, the second unrolled.
  std::vector<Var> a = f.tile.args();
  bool conv = a.size() == 4;
  Var vecVar = a[0], unrollVar = a[1];
  int tileV = outer % (2 * vec) == 0 ? 2 * vec : vec;
  int tileU = divisorTile(inner);
  // Few input channels (a network's first conv: 1 or 3) leave a tile of
  // vectors x channels too small to reuse each dy vector; a row of taps
  // joins the tile then (ResNet's 7x7 stem: 1 vector x 3 channels x 7
  // taps = 21 accumulators), so that one pass over dy serves the row.
  bool tapRow = conv && inner <= 4 && taps > 1 && tileU * taps <= 24;
  if (tapRow)
    tileV = vec;
  TailStrategy tail = outer % tileV == 0 ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  Var vo("vo"), vi("vi"), uo("uo"), ui("ui"), t("t");
  if (separateOutput)
    f.tile.compute_root();
  f.tile.split(vecVar, vo, vi, tileV, tail).split(unrollVar, uo, ui, tileU);
  if (tapRow)
    f.tile.reorder(vi, ui, a[2], uo, a[3], vo).fuse(uo, a[3], t).fuse(t, vo, t).unroll(a[2]);
  else if (conv)
    f.tile.reorder(vi, ui, uo, a[2], a[3], vo).fuse(uo, a[2], t).fuse(t, a[3], t).fuse(t, vo, t);
  else // a task per tile of units writes whole rows of the gradient
    f.tile.reorder(vi, ui, vo, uo);
  f.tile.vectorize(vi, vec).unroll(ui).parallel(conv ? t : uo);
  f.acc.compute_at(f.tile, conv ? t : vo)
      .vectorize(vecVar, vec, TailStrategy::RoundUp)
      .unroll(vecVar)
      .unroll(unrollVar);
  std::vector<VarOrRVar> order = {vecVar, unrollVar};
  if (tapRow)
    order.push_back(a[2]);
  for (int i = 0; i < f.r.dimensions(); ++i)
    order.push_back(f.r[i]);
  for (size_t i = tapRow ? 3 : 2; i < a.size(); ++i)
    order.push_back(a[i]);
  f.acc.update()
      .reorder(order)
      .vectorize(vecVar, vec, TailStrategy::RoundUp)
      .unroll(vecVar)
      .unroll(unrollVar);
  if (tapRow) {
    f.acc.unroll(a[2]);
    f.acc.update().unroll(a[2]);
  }
  f.input.compute_root().parallel(f.input.args().back());
  if (f.biasAcc.defined()) {
    f.biasAcc.compute_root();
    if (outer >= vec && conv)
      f.biasAcc.update().vectorize(v.c, vec, TailStrategy::GuardWithIf);
  }
}

// A conv's weight gradient is a GEMM per tap: dW_tap(o, i) = sum over the
// batch's pixels p of dy(o, p) * x_tap(i, p). One task per tap (and chunk of
// filters): it walks the pixels row by row, and for each row every register
// tile of filter vectors x input channels runs along the row, its
// accumulators reloaded once per row. A row of dy and of the input (W x C
// floats: 14 KB for each of ResNet's stages) stays in L1 across the tiles,
// so each value is read from memory once per tap instead of once per tile.
// (ResNet-18's 64-channel 3x3 conv at 56x56, batch 8: 52.7 ms with a task per
// tile streaming all of dy, 8.7 ms so; docs/performance.md.)
//
// With few input channels (a network's first conv: 1 or 3) a tap's GEMM is
// small and dy is large, and a task per tap would read all of dy once per
// tap: there the tasks are blocks of rows instead (rfactor), each summing
// every tap of its rows into a partial gradient of its own, and the
// partials are added at the end. (ResNet-18's 7x7 stem at batch 8: 19.5 ms
// with a row of taps in the register tile, 9.7 ms with a task per row of
// taps, 6.1 ms so; VGG's 3x3 first conv at 224x224: 45.7, 20.7, 9.8 ms.)
void scheduleConvWeightGrad(const Vars &v, WeightGradFuncs &f, const plan::Op &op, const Shape &in,
                            const Shape &out, int vec) {
  int64_t filters = out.c, channels = in.c / op.groups, taps = op.kernel[0] * op.kernel[1];
  if (filters < vec) {
    scheduleWeightGrad(v, f, filters, channels, op.kernel[1], true, vec);
    return;
  }
  std::vector<Var> a = f.tile.args(); // (o, i, kx, ky)
  Var o = a[0], i = a[1], kx = a[2], ky = a[3];
  // Register tile: up to 4 vectors of filters x input channels, at most 16
  // accumulators, the channel count dividing the input channels.
  int vectors = filters % (4 * vec) == 0 ? 4 : filters % (2 * vec) == 0 ? 2 : 1;
  int tileV = vectors * vec, tileU = 1;
  for (int u = 16 / vectors; u > 1; --u)
    if (channels % u == 0) {
      tileU = u;
      break;
    }
  Var vo("vo"), vi("vi"), vv("vv"), uo("uo"), ui("ui"), t("t");
  const RDom &r = f.r; // (x, y, n) of the output
  auto tiled = [&](Stage s) -> Stage {
    return s.split(o, vo, vi, tileV, TailStrategy::RoundUp)
        .split(vi, vv, vi, vec)
        .split(i, uo, ui, tileU);
  };
  f.tile.compute_root();
  if (channels <= 4 && taps > 1) {
    // Blocks of rows in parallel, every tap inside a row.
    const int blocks = 8;
    int rows = static_cast<int>((out.h + blocks - 1) / blocks);
    RVar ryo("ryo"), ryi("ryi");
    Var u("u");
    Func partial =
        f.acc.update().split(r.y, ryo, ryi, rows, TailStrategy::GuardWithIf).rfactor(ryo, u);
    f.acc.compute_root().vectorize(o, vec, TailStrategy::RoundUp);
    f.acc.update().vectorize(o, vec, TailStrategy::RoundUp);
    partial.compute_root().vectorize(o, vec, TailStrategy::RoundUp).parallel(u);
    tiled(partial.update())
        .reorder(vi, vv, ui, r.x, uo, vo, kx, ky, ryi, r.z, u)
        .vectorize(vi)
        .unroll(vv)
        .unroll(ui)
        .parallel(u);
    f.tile.vectorize(o, vec, TailStrategy::GuardWithIf);
  } else {
    // Tasks: taps x chunks of filters x chunks of input channels, at least
    // 8 of them where the filters and then the channels allow. (A 1x1
    // conv's gradient has one tap: with filters alone it could be a single
    // task, one core. ConvNeXt-Tiny's 384-to-96 pointwise convs at 56x56,
    // batch 8: 30 -> 17 ms each.)
    int64_t chunks = 1, channelChunks = 1;
    while (taps * chunks < 8 && filters % (2 * chunks * tileV) == 0)
      chunks *= 2;
    while (taps * chunks * channelChunks < 8 && channels % (2 * channelChunks * tileU) == 0)
      channelChunks *= 2;
    Var oc("oc"), oi("oi"), ic("ic"), ii("ii");
    f.tile.split(o, oc, oi, static_cast<int>(filters / chunks))
        .split(i, ic, ii, static_cast<int>(channels / channelChunks))
        .reorder(oi, ii, oc, ic, kx, ky)
        .fuse(oc, ic, t)
        .fuse(t, kx, t)
        .fuse(t, ky, t)
        .parallel(t)
        .vectorize(oi, vec, TailStrategy::GuardWithIf);
    f.acc.compute_at(f.tile, t).vectorize(o, vec, TailStrategy::RoundUp);
    tiled(f.acc.update())
        .reorder(vi, vv, ui, r.x, uo, vo, r.y, r.z, kx, ky)
        .vectorize(vi)
        .unroll(vv)
        .unroll(ui);
  }
  f.input.compute_root().parallel(f.input.args().back());
  if (f.biasAcc.defined()) {
    f.biasAcc.compute_root();
    f.biasAcc.update().vectorize(v.c, vec, TailStrategy::GuardWithIf);
  }
  // Into PyTorch's layout (kx, ky, i, o): a vector of filters read at once,
  // each filter's taps written in a row, blocks of filters in parallel.
  // (Unscheduled, this pass took 16 of the 26 ms of ResNet-18's 512-channel
  // 3x3 weight gradient at batch 8.)
  std::vector<Var> w = f.weight.args(); // (kx, ky, i, o)
  Var wo("wo"), wi("wi");
  f.weight.split(w[3], wo, wi, vec, TailStrategy::GuardWithIf)
      .reorder(wi, w[0], w[1], w[2], wo)
      .unroll(wi)
      .parallel(wo);
}

void scheduleDenseGradData(const Vars &v, DenseGradDataFuncs &f, const Shape &in, bool flattened,
                           int vec) {
  Shape flat;
  flat.c = in.elements();
  flat.rank = 2;
  scheduleDense(v, f.dense, flat, vec);
  if (flattened) {
    f.dense.output.compute_root();
    scheduleElementwise(v, f.output, in, vec);
  }
}

void schedulePoolGrad(const Vars &v, PoolGradFuncs &f, const Shape &in, const Shape &out, int vec) {
  if (f.argmax.defined()) {
    f.argmax.compute_root();
    if (out.c >= vec)
      f.argmax.vectorize(v.c, vec, TailStrategy::ShiftInwards);
    Var yn("yn");
    f.argmax.fuse(v.y, v.n, yn).parallel(yn);
  }
  schedulePool(v, f.pool, in, vec);
}

} // namespace cnnc::halide
