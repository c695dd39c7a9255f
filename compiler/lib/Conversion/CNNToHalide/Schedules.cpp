//===- Schedules.cpp - CPU schedule templates, one per step kind ----------===//
#include "Schedules.h"

#include <algorithm>

using namespace Halide;

namespace cnnc::halide {

using plan::Shape;

namespace {

int roundUp(int64_t v, int m) { return static_cast<int>((v + m - 1) / m * m); }

/// Splits `f`'s channels into vectors when there are enough of them; returns
/// whether it did.
bool vectorizeChannels(Func f, const Vars &v, int64_t channels, int vec) {
  if (channels < vec)
    return false;
  f.vectorize(v.c, vec, TailStrategy::ShiftInwards);
  return true;
}

/// Rows of all images run in parallel: batch 1 still has H tasks.
void parallelRows(Func f, const Vars &v) {
  Var yn("yn");
  f.fuse(v.y, v.n, yn).parallel(yn);
}

} // namespace

// A register tile of up to 4 vectors of output channels x 4 output pixels
// (16 accumulators of the 32 AVX-512 registers), the reduction over input
// channels innermost, filters packed output-channel innermost (one vector
// load per multiply-add, the input value broadcast), the padded input
// materialized rather than a boundary test in the inner loop, bias /
// batchnorm / activation applied in the tile.
void scheduleConv(const Vars &v, ConvFuncs &f, const plan::Op &op, const Shape &in,
                  const Shape &out, int vec) {
  // Where the filters of a 4-vector channel tile exceed 1 MiB (half an L2:
  // 512 input channels x 3x3), they stream from L2 for every pixel tile; 2
  // vectors x 8 pixels read half as many filter vectors per multiply-add.
  // (VGG-16's 512-channel 3x3 conv at 14x14, batch 8: 65.7 -> 37.7 ms; at
  // 28x28: 229 -> 151 ms; ResNet-18's at 7x7: 15.3 -> 9.5 ms. At 2304 inputs
  // x taps, e.g. 256 channels, the two tiles are within 10 % either way.)
  int64_t reduction = in.c / op.groups * op.kernel[0] * op.kernel[1];
  int vectors = 4 * vec * reduction * 4 > (int64_t(1) << 20) ? 2 : 4;
  int tileC = std::min(vectors * vec, roundUp(out.c, vec));
  // About 16 accumulators: fewer channel vectors leave room for more pixels
  // (LeNet's 6-filter conv). Prefer a pixel tile that divides the width.
  int budget = std::max(1, 16 / (tileC / vec));
  int tileX = static_cast<int>(std::min<int64_t>(out.w, budget));
  for (int d = tileX; d >= 4; --d)
    if (out.w % d == 0) {
      tileX = d;
      break;
    }
  TailStrategy cTail = out.c >= tileC ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  TailStrategy xTail = out.w >= tileX ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  Var co("co"), ci("ci"), xo("xo"), xi("xi"), yn("yn");
  f.output.split(v.c, co, ci, tileC, cTail)
      .split(v.x, xo, xi, tileX, xTail)
      .vectorize(ci, vec)
      .unroll(xi);
  // Where the filters outweigh an input image (deep layers with small maps),
  // each slice of filters stays in cache while it serves every pixel of the
  // batch: output channel tiles outermost, the padded input materialized
  // once. Elsewhere rows of all images run in parallel and each row's padded
  // input is made where it is used. (ResNet-18's layer4 3x3 conv, batch 1:
  // 7.6 ms -> 3.5 ms, docs/performance.md.)
  int64_t filterBytes = 4 * out.c * in.c / op.groups * op.kernel[0] * op.kernel[1];
  int64_t imageBytes = 4 * in.c * in.h * in.w;
  if (filterBytes > imageBytes) {
    // Rows of one channel tile run one after another (the tile's filters stay
    // in cache): a task is an image's rows for one tile where there are at
    // least 4 tiles, so that one core reads the tile's filters for all of
    // them (ResNet-18's 512-channel conv at batch 1: 1.35 -> 1.19 ms); with
    // fewer tiles, rows and tiles together make the tasks.
    Var t("t");
    if ((out.c + tileC - 1) / tileC >= 4)
      f.output.reorder(ci, xi, xo, v.y, v.n, co).fuse(v.n, co, t).parallel(t);
    else
      f.output.reorder(ci, xi, xo, v.n, v.y, co).fuse(v.y, co, t).parallel(t);
    f.conv.compute_at(f.output, xo);
    f.padded.compute_root().parallel(v.n);
  } else if (op.groups > 1 && op.groups == in.c && op.groups == out.c && out.h > 8) {
    // Depthwise: a task is a block of 8 rows, its padded input made once
    // per block. Per row, a 3x3 conv would copy each input row three
    // times, which no filter count amortizes here.
    Var yo("yo"), yi("yi");
    f.output.split(v.y, yo, yi, 8, TailStrategy::GuardWithIf)
        .reorder(ci, xi, xo, co, yi, yo, v.n)
        .fuse(yo, v.n, yn)
        .parallel(yn);
    f.conv.compute_at(f.output, xo);
    f.padded.compute_at(f.output, yn);
  } else {
    f.output.reorder(ci, xi, xo, co, v.y, v.n).fuse(v.y, v.n, yn).parallel(yn);
    f.conv.compute_at(f.output, xo);
    f.padded.compute_at(f.output, yn);
  }
  // RoundUp: whole vectors of channels, read from the padded packed weights.
  f.conv.vectorize(v.c, vec, TailStrategy::RoundUp).unroll(v.c).unroll(v.x);
  f.conv.update()
      .reorder(v.c, v.x, f.r.x, f.r.y, f.r.z, v.y, v.n)
      .vectorize(v.c, vec, TailStrategy::RoundUp)
      .unroll(v.c)
      .unroll(v.x);
  if (in.c >= vec)
    f.padded.vectorize(v.c, vec, TailStrategy::ShiftInwards);
}

// A task per block of units (packed weights, units innermost in blocks) and
// tile of images: the block's weights stream once in order, each weight
// vector serving up to 8 images (a block of 2 vectors: 16 accumulators).
// (AlexNet's 9216 x 4096 layer: 26.2 -> 8.2 ms at batch 8, 11.9 -> 4.7 ms at
// batch 1, with 4 vectors x 4 images over rows of all units before.)
void scheduleDense(const Vars &v, DenseFuncs &f, const Shape &out, int vec) {
  int block = static_cast<int>(f.block);
  int images = block <= 2 * vec ? 8 : 4;
  Var uo("uo"), ui("ui"), no("no"), ni("ni"), t("t");
  f.output.split(v.c, uo, ui, block, TailStrategy::GuardWithIf)
      .split(v.n, no, ni, images, TailStrategy::GuardWithIf)
      .reorder(ui, ni, v.x, v.y, uo, no)
      .fuse(uo, no, t)
      .parallel(t);
  if (out.c >= vec)
    f.output.vectorize(ui, vec);
  f.acc.compute_at(f.output, t).vectorize(v.c, vec).unroll(v.c).unroll(v.n);
  f.acc.update().reorder(v.c, v.n, f.r.x, f.r.y, f.r.z).vectorize(v.c, vec).unroll(v.c).unroll(v.n);
}

// Blocks in parallel, each written in order, vectors along the block.
void scheduleBlockedCopy(Func f, int vec) {
  std::vector<Var> a = f.args();
  f.compute_root().vectorize(a[0], vec).parallel(a.back());
}

/// The window reduction `acc` vector by vector of channels inside `output`
/// (at `fallback` when there are fewer channels than one vector).
static void reduceByChannelVectors(const Vars &v, PoolFuncs &f, const Shape &out, int vec,
                                   const Var &fallback) {
  Var co("co"), ci("ci");
  if (out.c >= vec) {
    f.output.split(v.c, co, ci, vec, TailStrategy::ShiftInwards).vectorize(ci);
    f.acc.compute_at(f.output, co).vectorize(v.c);
    f.acc.update().vectorize(v.c);
  } else {
    f.acc.compute_at(f.output, fallback);
  }
}

void schedulePool(const Vars &v, PoolFuncs &f, const Shape &out, int vec) {
  reduceByChannelVectors(v, f, out, vec, v.x);
  parallelRows(f.output, v);
}

void scheduleGlobalPool(const Vars &v, PoolFuncs &f, const Shape &out, int vec) {
  reduceByChannelVectors(v, f, out, vec, v.n);
  f.output.parallel(v.n);
}

void scheduleChannelReduction(const Vars &v, PoolFuncs &f, const Shape &out, int vec) {
  for (Func g : f.perPixel)
    g.compute_at(f.output, v.x);
  f.acc.compute_at(f.output, v.x);
  vectorizeChannels(f.output, v, out.c, vec);
  parallelRows(f.output, v);
}

void scheduleElementwise(const Vars &v, Func out, const Shape &shape, int vec) {
  vectorizeChannels(out, v, shape.c, vec);
  parallelRows(out, v);
}

// A pixel's two sums over its channels just before its channels are
// normalized, while they are in L1.
void scheduleLayerNorm(const Vars &v, LayerNormFuncs &f, const Shape &shape, int vec) {
  f.sum.compute_at(f.output, v.x);
  f.squares.compute_at(f.output, v.x);
  scheduleElementwise(v, f.output, shape, vec);
}

// The warp gathers: vectors run along x (the maps are per pixel; stores
// stride over the channels), a few channels unrolled, rows in parallel.
void scheduleAugment(const Vars &v, Func out, const Shape &shape, int vec) {
  out.reorder(v.x, v.c, v.y, v.n);
  if (shape.w >= vec)
    out.vectorize(v.x, vec, TailStrategy::ShiftInwards);
  if (shape.c <= 4)
    out.unroll(v.c);
  parallelRows(out, v);
}

// The destination's innermost dimension is the source's outermost one: a
// vec x vec tile reads vec short rows and writes vec vectors, every tap of
// a filter tile before the next tile (the source keeps taps innermost), and
// tiles of the second dimension in parallel. Untiled, the pass read one
// value per cache line: AlexNet's 9216 x 4096 dense weights took 322 ms to
// pack, every training step.
//
// Dense weights packed in blocks of units (three dimensions: unit in the
// block, feature, block) are written a block per task instead: the block is
// contiguous, and its source is a run of whole rows.
void scheduleTranspose(Func f, int vec) {
  std::vector<Var> a = f.args();
  Var xo("xo"), yo("yo"), xi("xi"), yi("yi");
  f.compute_root().tile(a[0], a[1], xo, yo, xi, yi, vec, vec, TailStrategy::GuardWithIf);
  if (a.size() == 3) {
    f.reorder(xi, yi, xo, yo, a[2]).vectorize(xi).unroll(yi).parallel(a[2]);
    return;
  }
  std::vector<VarOrRVar> order = {xi, yi};
  for (size_t d = 2; d < a.size(); ++d)
    order.push_back(a[d]);
  order.push_back(xo);
  order.push_back(yo);
  f.reorder(order).vectorize(xi).unroll(yi).parallel(yo);
}

// Vectors along the padded first dimension; the taps next, then the rest
// in the source's order, its outermost dimension in parallel: the source
// keeps taps innermost, so each vector gathers from a few rows that the
// loops inside it read through in order. (ResNet-18, per training step of
// batch 8, on a noisy machine: packing 14-18 ms with scheduleTranspose's
// tiles, 20-26 ms so; the transposes 11-17 ms either way, of 700-900 ms.
// Those tiles, with sizes known only at run time, took 2 to 5 s to
// compile, this 0.2 s.)
void scheduleRelayout(Func f, bool firstIsSourceOutermost, int vec) {
  std::vector<Var> a = f.args();
  Var ao("ao"), ai("ai");
  f.compute_root().split(a[0], ao, ai, vec, TailStrategy::ShiftInwards).vectorize(ai);
  if (firstIsSourceOutermost)
    f.reorder(ai, a[2], a[3], a[1], ao).parallel(ao);
  else
    f.reorder(ai, a[2], a[3], ao, a[1]).parallel(a[1]);
}

void schedulePrepare(PackedWeights &p, bool sizeGeneric, int vec) {
  if (sizeGeneric)
    scheduleRelayout(p.packed, true, vec);
  else
    scheduleTranspose(p.packed, vec);
  p.folded.compute_root();
}

} // namespace cnnc::halide
