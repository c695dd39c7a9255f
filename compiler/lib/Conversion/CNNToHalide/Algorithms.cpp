//===- Algorithms.cpp - The Halide algorithm of every layer ---------------===//
//
// Semantics are PyTorch's (torch 1.13), operator by operator; where PyTorch
// has a quirk (the divisor of a ceil-mode average pool, LPPool's rescaling)
// the comment says so. Accesses outside a tensor go through a boundary
// condition, so that schedules may over-compute tiles safely.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"
#include "Activations.h"
#include "cnnc/Arithmetic/LayerArithmetic.h"

#include <cmath>
#include <limits>

using namespace Halide;

namespace cnnc::halide {

using plan::Activation;
using plan::Op;
using plan::Shape;

Region spatialBox(const Shape &s) {
  return {{0, static_cast<int>(s.c)}, {0, static_cast<int>(s.w)}, {0, static_cast<int>(s.h)}};
}

Expr i32(int64_t v) { return Expr(static_cast<int>(v)); }

Extents extentsOf(const OutputImageParam &buffer) {
  return {buffer.dim(0).extent(), buffer.dim(1).extent(), buffer.dim(2).extent()};
}

Func convBoundary(const Op &op, Func input, const Shape &in, Expr channels) {
  Region box = spatialBox(in);
  if (channels.defined())
    box[0] = Range(0, channels);
  switch (op.mode) {
  case plan::PadMode::Replicate:
    return BoundaryConditions::repeat_edge(input, box);
  case plan::PadMode::Reflect:
    // PyTorch's 'reflect' does not repeat the edge pixel.
    return BoundaryConditions::mirror_interior(input, box);
  case plan::PadMode::Zeros:
    break;
  }
  return BoundaryConditions::constant_exterior(input, 0.0f, box);
}

ConvFuncs convAlgorithm(const Vars &v, const Op &op, Func input, const Shape &in, const Shape &out,
                        Func weights, Func bias, const ActivationLayer &act, Expr inChannels) {
  ConvFuncs f;
  Func boundary = convBoundary(op, input, in, inChannels);
  f.padded = Func("padded");
  f.padded(v.c, v.x, v.y, v.n) = boundary(v.c, v.x, v.y, v.n);
  int64_t inPerGroup = in.c / op.groups, outPerGroup = out.c / op.groups;
  Expr reduced = inChannels.defined() ? inChannels : i32(inPerGroup);
  f.r = RDom(0, reduced, 0, i32(op.kernel[1]), 0, i32(op.kernel[0]), "r");
  // Padded output channels (beyond out.c) read the last group's inputs. A
  // depthwise conv whose channels fill whole vectors computes no padded
  // channel (scheduleConv's tiles shift inwards): channel c reads input
  // channel c, a dense vector load instead of a clamped gather.
  bool depthwise = inPerGroup == 1 && outPerGroup == 1;
  bool wholeVectors = out.c % 16 == 0;
  Expr group = op.groups == 1              ? Expr(0)
               : depthwise && wholeVectors ? Expr(v.c)
                                           : min(v.c / i32(outPerGroup), i32(op.groups - 1));
  Expr ic = group * i32(inPerGroup) + f.r.x;
  Expr ix = v.x * i32(op.stride[1]) + f.r.y * i32(op.dilation[1]) - i32(op.pad[1]);
  Expr iy = v.y * i32(op.stride[0]) + f.r.z * i32(op.dilation[0]) - i32(op.pad[0]);
  f.conv = Func("conv");
  f.conv(v.c, v.x, v.y, v.n) = bias(v.c);
  f.conv(v.c, v.x, v.y, v.n) += weights(v.c, f.r.x, f.r.y, f.r.z) * f.padded(ic, ix, iy, v.n);
  f.output = Func("conv_output");
  f.output(v.c, v.x, v.y, v.n) = activate(f.conv(v.c, v.x, v.y, v.n), act);
  return f;
}

Func connectionTable(const Op &op, const Shape &in, const Shape &out, const std::string &name) {
  if (op.table.empty())
    return Func();
  int inPerGroup = static_cast<int>(in.c / op.groups), filters = static_cast<int>(out.c);
  Buffer<float> mask(inPerGroup, filters, name);
  mask.fill(0.0f);
  for (size_t f = 0; f < op.table.size(); ++f)
    for (int64_t c : op.table[f])
      mask(static_cast<int>(c), static_cast<int>(f)) = 1.0f;
  // Padded filters (and channels) read zero.
  return BoundaryConditions::constant_exterior(mask, 0.0f);
}

ConvWeight convWeight(const ImageParam &weight) {
  if (weight.dimensions() == 4)
    return {weight, weight.dim(2).extent(), weight.dim(3).extent()};
  Var kx("kx"), ky("ky"), i("i"), o("o");
  Func w("linear_weight");
  w(kx, ky, i, o) = weight(i, o);
  return {w, weight.dim(0).extent(), weight.dim(1).extent()};
}

PackedWeights convPrepare(Expr outChannels, Func weight, Func bias, Func table,
                          const BatchNormParams *bn) {
  Var o("o"), i("i"), kx("kx"), ky("ky");
  Expr oc = min(o, outChannels - 1);
  Expr valid = o < outChannels;
  Expr scale = 1.0f;
  if (bn)
    scale = bn->gamma(oc) / sqrt(bn->var(oc) + static_cast<float>(bn->eps));
  Expr w = weight(kx, ky, i, oc);
  if (table.defined())
    w = w * table(i, oc);
  PackedWeights p;
  p.packed = Func("packed_weight");
  p.packed(o, i, kx, ky) = select(valid, w * scale, 0.0f);
  Expr b = bias.defined() ? bias(oc) : Expr(0.0f);
  if (bn)
    b = (b - bn->mean(oc)) * scale + bn->beta(oc);
  p.folded = Func("folded_bias");
  p.folded(o) = select(valid, b, 0.0f);
  return p;
}

DenseFuncs denseAlgorithm(const Vars &v, Func input, Expr batch, const Shape &in, Func weights,
                          int64_t block, Func bias, const ActivationLayer &act) {
  DenseFuncs f;
  f.block = block;
  // Batch tiles may run past the batch; they read its last sample.
  Func clamped("clamped_input");
  clamped(v.c, v.x, v.y, v.n) = input(v.c, v.x, v.y, clamp(v.n, 0, batch - 1));
  f.r = RDom(0, i32(in.c), 0, i32(in.w), 0, i32(in.h), "r");
  // PyTorch flattens N x C x H x W as c * H * W + y * W + x.
  Expr feature = f.r.x * i32(in.h * in.w) + f.r.z * i32(in.w) + f.r.y;
  Var ub("ub");
  f.acc = Func("dense");
  f.acc(v.c, ub, v.n) = bias(ub * i32(block) + v.c);
  f.acc(v.c, ub, v.n) += weights(v.c, feature, ub) * clamped(f.r.x, f.r.y, f.r.z, v.n);
  f.output = Func("dense_output");
  f.output(v.c, v.x, v.y, v.n) = activate(f.acc(v.c % i32(block), v.c / i32(block), v.n), act);
  return f;
}

PackedWeights densePrepare(int64_t units, int64_t block, Func weight, Func bias) {
  Var ui("ui"), f("f"), ub("ub"), u("u");
  Expr unit = ub * i32(block) + ui;
  PackedWeights p;
  p.packed = Func("packed_weight");
  // Padding only where the last block is partial: a clamped index would
  // make every load a gather.
  if (units % block == 0)
    p.packed(ui, f, ub) = weight(f, unit);
  else
    p.packed(ui, f, ub) = select(unit < i32(units), weight(f, min(unit, i32(units - 1))), 0.0f);
  p.folded = Func("folded_bias");
  p.folded(u) =
      select(u < i32(units), bias.defined() ? bias(min(u, i32(units - 1))) : Expr(0.0f), 0.0f);
  return p;
}

Func denseBlockFeatures(int64_t features, int64_t block, Func weight) {
  Var fi("fi"), u("u"), fb("fb");
  Expr feature = fb * i32(block) + fi;
  Func t("blocked_weight");
  if (features % block == 0) // no padding, so no clamped (gathering) index
    t(fi, u, fb) = weight(feature, u);
  else
    t(fi, u, fb) =
        select(feature < i32(features), weight(min(feature, i32(features - 1)), u), 0.0f);
  return t;
}

namespace {

/// PyTorch's average-pool divisor along one axis for output index `o`:
/// the window [o s - pb, o s - pb + k) cut at n + pe counts padding, cut at
/// [0, n) it does not (count_include_pad = false).
Expr poolExtent(Expr o, int64_t n, int64_t k, int64_t s, int64_t pb, int64_t pe, bool includePad) {
  Expr start = o * i32(s) - i32(pb);
  Expr end = min(start + i32(k), i32(n + pe));
  if (includePad)
    return end - start;
  return min(end, i32(n)) - max(start, 0);
}

} // namespace

Expr poolDivisor(const Op &op, const Shape &in, Expr x, Expr y) {
  bool includePad = op.kind == plan::LayerKind::L2Pool || op.count_include_pad;
  return poolExtent(y, in.h, op.kernel[0], op.stride[0], op.pad[0], op.pad[2], includePad) *
         poolExtent(x, in.w, op.kernel[1], op.stride[1], op.pad[1], op.pad[3], includePad);
}

PoolFuncs poolAlgorithm(const Vars &v, const Op &op, Func input, const Shape &in) {
  PoolFuncs f;
  RDom r(0, i32(op.kernel[1]), 0, i32(op.kernel[0]), "r");
  Expr ix = v.x * i32(op.stride[1]) + r.x * i32(op.dilation[1]) - i32(op.pad[1]);
  Expr iy = v.y * i32(op.stride[0]) + r.y * i32(op.dilation[0]) - i32(op.pad[0]);
  f.acc = Func("pool");
  f.output = Func("pool_output");
  if (op.kind == plan::LayerKind::MaxPool) {
    Func padded = BoundaryConditions::constant_exterior(
        input, -std::numeric_limits<float>::infinity(), spatialBox(in));
    f.acc(v.c, v.x, v.y, v.n) = -std::numeric_limits<float>::infinity();
    f.acc(v.c, v.x, v.y, v.n) = max(f.acc(v.c, v.x, v.y, v.n), padded(v.c, ix, iy, v.n));
    f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.x, v.y, v.n);
    return f;
  }
  Func padded = BoundaryConditions::constant_exterior(input, 0.0f, spatialBox(in));
  Expr value = padded(v.c, ix, iy, v.n);
  if (op.kind == plan::LayerKind::L2Pool)
    value = value * value;
  f.acc(v.c, v.x, v.y, v.n) = 0.0f;
  f.acc(v.c, v.x, v.y, v.n) += value;
  Expr mean = f.acc(v.c, v.x, v.y, v.n) / cast<float>(poolDivisor(op, in, v.x, v.y));
  if (op.kind == plan::LayerKind::AvgPool) {
    f.output(v.c, v.x, v.y, v.n) = mean;
  } else {
    // nn.LPPool2d: avg_pool2d(x^2) * kh * kw, then the square root.
    f.output(v.c, v.x, v.y, v.n) =
        sqrt(max(mean, 0.0f) * static_cast<float>(op.kernel[0] * op.kernel[1]));
  }
  return f;
}

PoolFuncs globalAvgPoolAlgorithm(const Vars &v, Func input, const Extents &in) {
  PoolFuncs f;
  RDom r(0, in.w, 0, in.h, "r");
  f.acc = Func("global_pool");
  f.acc(v.c, v.n) = 0.0f;
  f.acc(v.c, v.n) += input(v.c, r.x, r.y, v.n);
  f.output = Func("global_pool_output");
  f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.n) / cast<float>(in.h * in.w);
  return f;
}

AdaptiveWindow adaptiveWindow(const Op &op, const Shape &in, Expr x, Expr y) {
  Expr h = i32(in.h), w = i32(in.w), oh = i32(op.output_size[0]), ow = i32(op.output_size[1]);
  return {adaptiveStart(y, h, oh), adaptiveEnd(y, h, oh), adaptiveStart(x, w, ow),
          adaptiveEnd(x, w, ow)};
}

RDom adaptiveTaps(const Op &op, const Shape &in, const AdaptiveWindow &win,
                  const std::string &name) {
  RDom r(0, i32(adaptiveLargestWindow(in.w, op.output_size[1])), 0,
         i32(adaptiveLargestWindow(in.h, op.output_size[0])), name);
  r.where(r.x < win.x1 - win.x0 && r.y < win.y1 - win.y0);
  return r;
}

PoolFuncs adaptivePoolAlgorithm(const Vars &v, const Op &op, Func input, const Shape &in) {
  AdaptiveWindow win = adaptiveWindow(op, in, v.x, v.y);
  RDom r = adaptiveTaps(op, in, win, "r");
  // The clamps only bound what Halide infers; the predicate keeps every
  // tap inside the window.
  Expr value = input(v.c, min(win.x0 + r.x, i32(in.w - 1)), min(win.y0 + r.y, i32(in.h - 1)), v.n);
  PoolFuncs f;
  f.acc = Func("adaptive_pool");
  f.output = Func("adaptive_pool_output");
  if (op.kind == plan::LayerKind::AdaptiveMaxPool) {
    f.acc(v.c, v.x, v.y, v.n) = -std::numeric_limits<float>::infinity();
    f.acc(v.c, v.x, v.y, v.n) = max(f.acc(v.c, v.x, v.y, v.n), value);
    f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.x, v.y, v.n);
    return f;
  }
  f.acc(v.c, v.x, v.y, v.n) = 0.0f;
  f.acc(v.c, v.x, v.y, v.n) += value;
  Expr count = (win.y1 - win.y0) * (win.x1 - win.x0);
  f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.x, v.y, v.n) / cast<float>(count);
  return f;
}

PoolFuncs softmaxAlgorithm(const Vars &v, Func input, const Shape &in) {
  PoolFuncs f;
  RDom r(0, i32(in.c), "r");
  Func largest("softmax_max");
  largest(v.x, v.y, v.n) = maximum(input(r, v.x, v.y, v.n));
  Func e("softmax_exp");
  e(v.c, v.x, v.y, v.n) = exp(input(v.c, v.x, v.y, v.n) - largest(v.x, v.y, v.n));
  f.acc = Func("softmax_sum");
  f.acc(v.x, v.y, v.n) = 0.0f;
  f.acc(v.x, v.y, v.n) += e(r, v.x, v.y, v.n);
  f.output = Func("softmax_output");
  f.output(v.c, v.x, v.y, v.n) = e(v.c, v.x, v.y, v.n) / f.acc(v.x, v.y, v.n);
  f.perPixel = {largest, e};
  return f;
}

PoolFuncs lrnAlgorithm(const Vars &v, const Op &op, Func input, const Shape &in) {
  // nn.LocalResponseNorm: x / (k + alpha / size * sum of x^2 over channels
  // [c - size/2, c + (size-1)/2])^beta, zeros outside.
  PoolFuncs f;
  Func padded = BoundaryConditions::constant_exterior(input, 0.0f, spatialBox(in));
  RDom r(0, i32(op.size), "r");
  f.acc = Func("lrn_sum");
  f.acc(v.c, v.x, v.y, v.n) = 0.0f;
  Expr neighbour = padded(v.c + r - i32(op.size / 2), v.x, v.y, v.n);
  f.acc(v.c, v.x, v.y, v.n) += neighbour * neighbour;
  Expr denominator = pow(static_cast<float>(op.k) +
                             static_cast<float>(op.alpha / op.size) * f.acc(v.c, v.x, v.y, v.n),
                         static_cast<float>(op.beta));
  f.output = Func("lrn_output");
  f.output(v.c, v.x, v.y, v.n) = input(v.c, v.x, v.y, v.n) / denominator;
  return f;
}

LayerNormFuncs layerNormAlgorithm(const Vars &v, const Op &op, Func input, Expr channels,
                                  Func gamma, Func beta) {
  LayerNormFuncs f;
  RDom r(0, channels, "r");
  Expr count = cast<float>(channels);
  f.sum = Func("layernorm_sum");
  f.sum(v.x, v.y, v.n) = 0.0f;
  f.sum(v.x, v.y, v.n) += input(r, v.x, v.y, v.n);
  f.mean = Func("layernorm_mean");
  f.mean(v.x, v.y, v.n) = f.sum(v.x, v.y, v.n) / count;
  f.squares = Func("layernorm_squares");
  f.squares(v.x, v.y, v.n) = 0.0f;
  Expr centred = input(r, v.x, v.y, v.n) - f.mean(v.x, v.y, v.n);
  f.squares(v.x, v.y, v.n) += centred * centred;
  f.invStd = Func("layernorm_inv_std");
  f.invStd(v.x, v.y, v.n) =
      1.0f / sqrt(f.squares(v.x, v.y, v.n) / count + static_cast<float>(op.eps));
  f.output = Func("layernorm_output");
  f.output(v.c, v.x, v.y, v.n) =
      (input(v.c, v.x, v.y, v.n) - f.mean(v.x, v.y, v.n)) * f.invStd(v.x, v.y, v.n) * gamma(v.c) +
      beta(v.c);
  return f;
}

Func channelValues(const Op &op, const ImageParam &weight) {
  Var c("c");
  bool shared = op.kind == plan::LayerKind::PReLU && op.num_parameters == 1;
  std::vector<Expr> at(weight.dimensions(), Expr(0));
  if (!shared)
    at.back() = c;
  Func w("channel_value");
  w(c) = weight(at);
  return w;
}

Func channelwiseAlgorithm(const Vars &v, const Op &op, Func input, Func w) {
  Func out("channelwise_output");
  Expr x = input(v.c, v.x, v.y, v.n);
  if (op.kind == plan::LayerKind::PReLU)
    out(v.c, v.x, v.y, v.n) = select(x > 0.0f, x, w(v.c) * x);
  else
    out(v.c, v.x, v.y, v.n) = x * w(v.c);
  return out;
}

Func batchNormAlgorithm(const Vars &v, const Op &op, Func input, const BatchNormParams &bn,
                        const ActivationLayer &act) {
  Func out("batchnorm_output");
  Expr scale = bn.gamma(v.c) / sqrt(bn.var(v.c) + static_cast<float>(op.eps));
  out(v.c, v.x, v.y, v.n) =
      activate((input(v.c, v.x, v.y, v.n) - bn.mean(v.c)) * scale + bn.beta(v.c), act);
  return out;
}

Func activationAlgorithm(const Vars &v, Func input, const ActivationLayer &act) {
  Func out("activation_output");
  out(v.c, v.x, v.y, v.n) = activate(input(v.c, v.x, v.y, v.n), act);
  return out;
}

Func addAlgorithm(const Vars &v, const std::vector<Func> &inputs, const ActivationLayer &act) {
  Expr sum = inputs[0](v.c, v.x, v.y, v.n);
  for (size_t i = 1; i < inputs.size(); ++i)
    sum = sum + inputs[i](v.c, v.x, v.y, v.n);
  Func out("add_output");
  out(v.c, v.x, v.y, v.n) = activate(sum, act);
  return out;
}

Func mulAlgorithm(const Vars &v, const std::vector<Func> &inputs, const ActivationLayer &act) {
  Expr product = inputs[0](v.c, v.x, v.y, v.n);
  for (size_t i = 1; i < inputs.size(); ++i)
    product = product * inputs[i](v.c, v.x, v.y, v.n);
  Func out("mul_output");
  out(v.c, v.x, v.y, v.n) = activate(product, act);
  return out;
}

Func broadcastTo(const Vars &v, Func input, const Shape &from, const Shape &to) {
  bool channels = from.c == 1 && to.c != 1;
  bool pixels = from.h == 1 && from.w == 1 && (to.h != 1 || to.w != 1);
  if (!channels && !pixels)
    return input;
  Func f("broadcast");
  f(v.c, v.x, v.y, v.n) = input(channels ? Expr(0) : Expr(v.c), pixels ? Expr(0) : Expr(v.x),
                                pixels ? Expr(0) : Expr(v.y), v.n);
  return f;
}

Func concatAlgorithm(const Vars &v, const std::vector<Func> &inputs,
                     const std::vector<Expr> &channels) {
  // Each input is read at a clamped channel, so every branch of the select
  // stays inside its tensor.
  Expr offset = 0;
  std::vector<Expr> conditions, values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Expr local = clamp(v.c - offset, 0, channels[i] - 1);
    values.push_back(inputs[i](local, v.x, v.y, v.n));
    offset = offset + channels[i];
    conditions.push_back(v.c < offset);
  }
  Expr value = values.back();
  for (size_t i = values.size() - 1; i-- > 0;)
    value = select(conditions[i], values[i], value);
  Func out("concat_output");
  out(v.c, v.x, v.y, v.n) = value;
  return out;
}

Func channelGatherAlgorithm(const Vars &v, const Op &op, Func input, const Shape &in) {
  Expr source = op.kind == LayerKind::Chunk ? v.c + i32(chunkStart(in.c, op.chunks, op.index))
                                            : shuffleSource<Expr>(v.c, i32(in.c), i32(op.groups));
  Func f("channel_gather");
  f(v.c, v.x, v.y, v.n) = input(source, v.x, v.y, v.n);
  return f;
}

Func flattenAlgorithm(const Vars &v, Func input, const Shape &in) {
  Func out("flatten_output");
  Expr f = v.c;
  out(v.c, v.x, v.y, v.n) =
      input(f / i32(in.h * in.w), f % i32(in.w), (f / i32(in.w)) % i32(in.h), v.n);
  return out;
}

Func augmentAlgorithm(const Vars &v, Func input, Func maps, const Shape &in) {
  Expr x = cast<float>(v.x), y = cast<float>(v.y);
  auto m = [&](int i) { return maps(i, 0, 0, v.n); };
  // Clamped a pixel beyond the border (all taps outside read zero) so that
  // any map, even a degenerate one, gives finite integer coordinates.
  Expr w = static_cast<float>(in.w), h = static_cast<float>(in.h);
  Expr sx = clamp(m(0) * x + m(1) * y + m(2), -2.0f, w + 1.0f);
  Expr sy = clamp(m(3) * x + m(4) * y + m(5), -2.0f, h + 1.0f);
  Expr fx = floor(sx), fy = floor(sy);
  Expr x0 = cast<int>(fx), y0 = cast<int>(fy);
  Expr ax = sx - fx, ay = sy - fy;
  auto tap = [&](Expr xi, Expr yi) {
    Expr inside = xi >= 0 && xi < i32(in.w) && yi >= 0 && yi < i32(in.h);
    return select(inside, input(v.c, clamp(xi, 0, i32(in.w - 1)), clamp(yi, 0, i32(in.h - 1)), v.n),
                  0.0f);
  };
  Func out("augmented");
  out(v.c, v.x, v.y, v.n) = (1 - ax) * (1 - ay) * tap(x0, y0) + ax * (1 - ay) * tap(x0 + 1, y0) +
                            (1 - ax) * ay * tap(x0, y0 + 1) + ax * ay * tap(x0 + 1, y0 + 1);
  return out;
}

} // namespace cnnc::halide
