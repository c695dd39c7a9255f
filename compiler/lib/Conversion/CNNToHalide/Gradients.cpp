//===- Gradients.cpp - Training-mode and gradient algorithms --------------===//
//
// Formulas are PyTorch's (torch 1.13 autograd), checked op by op against it
// (test/conformance/gradients.py). Notation: y the layer's output, dy its
// gradient, x its input, M = N * H * W the values per batchnorm channel.
//
//===----------------------------------------------------------------------===//
#include "Gradients.h"
#include "Activations.h"
#include "cnnc/Arithmetic/LayerArithmetic.h"

#include <functional>
#include <limits>

using namespace Halide;

namespace cnnc::halide {

using plan::Activation;
using plan::Op;
using plan::Shape;

namespace {

/// A per-channel sum of `value(x, y, n)` over every pixel of the batch:
/// per-row partial sums (`rows`, parallel over rows) and their `total`.
ChannelSum channelSum(const Vars &v, const std::string &name, Expr batch, const Extents &in,
                      const std::function<Expr(Expr, Expr, Expr)> &value) {
  RDom row(0, in.w, 0, batch, "row");
  RDom rows(0, in.h, "rows");
  ChannelSum s{Func(name + "_rows"), Func(name)};
  s.rows(v.c, v.y) = 0.0f;
  s.rows(v.c, v.y) += value(row.x, v.y, row.y);
  s.total(v.c) = 0.0f;
  s.total(v.c) += s.rows(v.c, rows);
  return s;
}

} // namespace

BatchNormTrainFuncs batchNormTrainAlgorithm(const Vars &v, const Op &op, Func input, Expr batch,
                                            const Extents &in, Func gamma, Func beta,
                                            const ActivationLayer &act) {
  BatchNormTrainFuncs f;
  Expr count = cast<float>(batch * in.h * in.w);
  f.sum = channelSum(v, "bn_sum", batch, in,
                     [&](Expr x, Expr y, Expr n) { return input(v.c, x, y, n); });
  f.mean = Func("batch_mean");
  f.mean(v.c) = f.sum.total(v.c) / count;
  // Two passes: the variance from centred values, as PyTorch computes it.
  f.squares = channelSum(v, "bn_squares", batch, in, [&](Expr x, Expr y, Expr n) {
    Expr centred = input(v.c, x, y, n) - f.mean(v.c);
    return centred * centred;
  });
  f.var = Func("batch_var");
  f.var(v.c) = f.squares.total(v.c) / count;
  Expr scale = gamma(v.c) / sqrt(f.var(v.c) + static_cast<float>(op.eps));
  f.output = Func("batchnorm_train_output");
  f.output(v.c, v.x, v.y, v.n) =
      activate((input(v.c, v.x, v.y, v.n) - f.mean(v.c)) * scale + beta(v.c), act);
  return f;
}

Func multiplyAlgorithm(const Vars &v, Func a, Func b) {
  Func out("masked");
  out(v.c, v.x, v.y, v.n) = a(v.c, v.x, v.y, v.n) * b(v.c, v.x, v.y, v.n);
  return out;
}

Func activationGradAlgorithm(const Vars &v, Func value, Func dy, const ActivationLayer &act) {
  Expr derivative = activationDerivative(value(v.c, v.x, v.y, v.n), act);
  Func f("activation_grad");
  f(v.c, v.x, v.y, v.n) = dy(v.c, v.x, v.y, v.n) * derivative;
  return f;
}

Func transposeWeightsAlgorithm(Expr groups, const ConvWeight &weight, Func table) {
  Var c("c"), o("o"), kx("kx"), ky("ky");
  Expr inPerGroup = weight.inPerGroup;
  Expr outPerGroup = weight.filters / groups;
  Expr inChannels = inPerGroup * groups;
  Expr cc = min(c, inChannels - 1);
  Expr group = cc / inPerGroup;
  // Clamped to the filters' extents: bounds inference cannot see that a
  // remainder by a run-time size stays in range.
  Expr i = clamp(cc - group * inPerGroup, 0, inPerGroup - 1);
  Expr filter = clamp(group * outPerGroup + o, 0, weight.filters - 1);
  Expr w = weight.w(kx, ky, i, filter);
  if (table.defined())
    w = w * table(i, filter);
  Func t("transposed_weight");
  t(c, o, kx, ky) = select(c < inChannels, w, 0.0f);
  return t;
}

namespace {

/// The phases of a strided data gradient (ConvGradDataFuncs): for phase a
/// along an axis with stride s, kernel k and left padding p (0 over a padded
/// domain), the taps are k0 + s j with k0 = (a + p) mod s, and tap j reads
/// dy at q + (a + p - k0) / s - j.
void convGradDataPhases(const Vars &v, const Op &op, ConvGradDataFuncs &f, Func bounded,
                        Func transposed, Expr group, bool zeros, int64_t outPerGroup) {
  struct Axis {
    int64_t first, taps, offset, extent;
  };
  auto axis = [](int64_t a, int64_t s, int64_t kernel, int64_t pad, int64_t domain) {
    int64_t first = (a + pad) % s;
    int64_t taps = first < kernel ? (kernel - first + s - 1) / s : 0;
    return Axis{first, taps, (a + pad - first) / s, (domain - a + s - 1) / s};
  };
  int64_t sx = op.stride[1], sy = op.stride[0];
  std::vector<Expr> phaseValue;
  for (int64_t ay = 0; ay < sy; ++ay)
    for (int64_t ax = 0; ax < sx; ++ax) {
      Axis px = axis(ax, sx, op.kernel[1], zeros ? op.pad[1] : 0, f.domain.w);
      Axis py = axis(ay, sy, op.kernel[0], zeros ? op.pad[0] : 0, f.domain.h);
      ConvFuncs p;
      Op window = op;
      window.kernel[0] = std::max<int64_t>(py.taps, 1);
      window.kernel[1] = std::max<int64_t>(px.taps, 1);
      window.stride[0] = window.stride[1] = 1;
      Shape shape = f.domain;
      shape.w = px.extent;
      shape.h = py.extent;
      std::string phase = "_phase" + std::to_string(ax) + std::to_string(ay);
      p.output = Func("grad_data" + phase);
      if (px.taps == 0 || py.taps == 0) {
        p.output(v.c, v.x, v.y, v.n) = 0.0f; // no tap reaches these pixels
      } else {
        p.padded = Func("dy_padded" + phase);
        p.padded(v.c, v.x, v.y, v.n) = bounded(v.c, v.x, v.y, v.n);
        p.r = RDom(0, i32(outPerGroup), 0, i32(px.taps), 0, i32(py.taps), "r" + phase);
        p.conv = Func("conv_grad_data" + phase);
        p.conv(v.c, v.x, v.y, v.n) = 0.0f;
        p.conv(v.c, v.x, v.y, v.n) +=
            transposed(v.c, p.r.x, i32(px.first) + i32(sx) * p.r.y,
                       i32(py.first) + i32(sy) * p.r.z) *
            p.padded(group * i32(outPerGroup) + p.r.x, v.x + i32(px.offset) - p.r.y,
                     v.y + i32(py.offset) - p.r.z, v.n);
        p.output(v.c, v.x, v.y, v.n) = p.conv(v.c, v.x, v.y, v.n);
      }
      phaseValue.push_back(p.output(v.c, v.x / i32(sx), v.y / i32(sy), v.n));
      f.phases.push_back(p);
      f.phaseOps.push_back(window);
      f.phaseShapes.push_back(shape);
    }
  // The schedule splits x and y by the strides, so these selects resolve.
  Expr value = phaseValue.back();
  for (int64_t i = static_cast<int64_t>(phaseValue.size()) - 2; i >= 0; --i)
    value =
        select(v.x % i32(sx) == i32(i % sx) && v.y % i32(sy) == i32(i / sx), phaseValue[i], value);
  f.conv.output(v.c, v.x, v.y, v.n) = value;
}

} // namespace

ConvGradDataFuncs convGradDataAlgorithm(const Vars &v, const Op &op, Func dy, const Shape &in,
                                        const Shape &out, Func transposed) {
  ConvGradDataFuncs f;
  bool zeros = op.mode == plan::PadMode::Zeros;
  // dx at padded coordinate p gathers dy at o where p = o * stride + k * dilation.
  f.domain = in;
  if (!zeros) {
    f.domain.w = in.w + op.pad[1] + op.pad[3];
    f.domain.h = in.h + op.pad[0] + op.pad[2];
  }
  int64_t inPerGroup = in.c / op.groups, outPerGroup = out.c / op.groups;
  Func bounded = BoundaryConditions::constant_exterior(dy, 0.0f, spatialBox(out));
  Expr group = op.groups == 1 ? Expr(0) : min(v.c / i32(inPerGroup), i32(op.groups - 1));
  f.conv.output = Func("padded_grad");
  bool strided = op.stride[0] > 1 || op.stride[1] > 1;
  if (strided && op.dilation[0] == 1 && op.dilation[1] == 1) {
    convGradDataPhases(v, op, f, bounded, transposed, group, zeros, outPerGroup);
  } else {
    f.conv.padded = Func("dy_padded");
    f.conv.padded(v.c, v.x, v.y, v.n) = bounded(v.c, v.x, v.y, v.n);
    f.conv.r = RDom(0, i32(outPerGroup), 0, i32(op.kernel[1]), 0, i32(op.kernel[0]), "r");
    const RDom &r = f.conv.r;
    Expr px = zeros ? v.x + i32(op.pad[1]) : Expr(v.x);
    Expr py = zeros ? v.y + i32(op.pad[0]) : Expr(v.y);
    Expr tx = px - r.y * i32(op.dilation[1]);
    Expr ty = py - r.z * i32(op.dilation[0]);
    // Halide's division rounds down, so taps left of the image read zeros.
    Expr value = f.conv.padded(group * i32(outPerGroup) + r.x, tx / i32(op.stride[1]),
                               ty / i32(op.stride[0]), v.n);
    if (strided)
      value = select(tx % i32(op.stride[1]) == 0 && ty % i32(op.stride[0]) == 0, value, 0.0f);
    f.conv.conv = Func("conv_grad_data");
    f.conv.conv(v.c, v.x, v.y, v.n) = 0.0f;
    f.conv.conv(v.c, v.x, v.y, v.n) += transposed(v.c, r.x, r.y, r.z) * value;
    f.conv.output(v.c, v.x, v.y, v.n) = f.conv.conv(v.c, v.x, v.y, v.n);
  }
  if (zeros)
    return f;
  // Each padded pixel copied an input pixel: add its gradient to that pixel.
  auto source = [&](Expr p, int64_t n, int64_t before) {
    Expr i = p - i32(before);
    if (op.mode == plan::PadMode::Replicate)
      return clamp(i, 0, i32(n - 1));
    // Clamped as well, so that bounds inference sees the range [0, n).
    return clamp(select(i < 0, -i, select(i >= i32(n), i32(2 * (n - 1)) - i, i)), 0, i32(n - 1));
  };
  RDom all(0, i32(f.domain.w), 0, i32(f.domain.h), "all");
  f.fold = Func("conv_grad_data_folded");
  f.fold(v.c, v.x, v.y, v.n) = 0.0f;
  f.fold(v.c, source(all.x, in.w, op.pad[1]), source(all.y, in.h, op.pad[0]), v.n) +=
      f.conv.output(v.c, all.x, all.y, v.n);
  return f;
}

namespace {

/// Bias gradient: dy summed over pixels and the batch, per channel.
void biasGradient(const Vars &v, WeightGradFuncs &f, Func dy, Expr batch, const Shape &out) {
  RDom all(0, i32(out.w), 0, i32(out.h), 0, batch, "pixels");
  f.biasAcc = Func("bias_grad_sum");
  f.biasAcc(v.c) = 0.0f;
  f.biasAcc(v.c) += dy(v.c, all.x, all.y, all.z);
  f.bias = Func("bias_grad");
  f.bias(v.c) = f.biasAcc(v.c);
}

/// Reading channel `c` of a tensor with `channels` channels from a schedule
/// that rounds vectors up: clamped when the last vector would run past.
Expr channelIndex(Expr c, int64_t channels, int vec) {
  return channels % vec == 0 ? c : min(c, i32(channels - 1));
}

} // namespace

WeightGradFuncs convGradWeightAlgorithm(const Vars &v, const Op &op, Func dy, Func input,
                                        Expr batch, const Shape &in, const Shape &out, Func table,
                                        int vec) {
  WeightGradFuncs f;
  Func boundary = convBoundary(op, input, in);
  f.input = Func("padded_input");
  f.input(v.c, v.x, v.y, v.n) = boundary(v.c, v.x, v.y, v.n);
  Var o("o"), i("i"), kx("kx"), ky("ky");
  int64_t inPerGroup = in.c / op.groups, outPerGroup = out.c / op.groups;
  f.r = RDom(0, i32(out.w), 0, i32(out.h), 0, batch, "r");
  Expr oc = channelIndex(o, out.c, vec);
  Expr group = op.groups == 1 ? Expr(0) : oc / i32(outPerGroup);
  Expr ix = f.r.x * i32(op.stride[1]) + kx * i32(op.dilation[1]) - i32(op.pad[1]);
  Expr iy = f.r.y * i32(op.stride[0]) + ky * i32(op.dilation[0]) - i32(op.pad[0]);
  // dw(o, i, kx, ky) = sum over n, y, x of dy(o, x, y, n) * x_padded(i, ...).
  f.acc = Func("weight_grad_sum");
  f.acc(o, i, kx, ky) = 0.0f;
  f.acc(o, i, kx, ky) +=
      dy(oc, f.r.x, f.r.y, f.r.z) * f.input(group * i32(inPerGroup) + i, ix, iy, f.r.z);
  f.tile = Func("weight_grad_tile");
  f.tile(o, i, kx, ky) = f.acc(o, i, kx, ky);
  Expr w = f.tile(o, i, kx, ky);
  if (table.defined())
    w = w * table(i, o);
  f.weight = Func("weight_grad");
  f.weight(kx, ky, i, o) = w;
  if (op.bias >= 0)
    biasGradient(v, f, dy, batch, out);
  return f;
}

WeightGradFuncs denseGradWeightAlgorithm(const Vars &v, Func dy, Func input, Expr batch,
                                         const Shape &in, const Shape &out, bool flattened,
                                         int vec) {
  WeightGradFuncs f;
  Var fe("f"), u("u");
  // The input in PyTorch's flatten order (c, y, x), one row per sample.
  f.input = Func("flat_input");
  if (flattened)
    f.input(fe, v.n) =
        input(fe / i32(in.h * in.w), fe % i32(in.w), (fe / i32(in.w)) % i32(in.h), v.n);
  else
    f.input(fe, v.n) = input(fe, 0, 0, v.n);
  f.r = RDom(0, batch, "r");
  f.acc = Func("weight_grad_sum");
  f.acc(fe, u) = 0.0f;
  f.acc(fe, u) += f.input(channelIndex(fe, in.elements(), vec), f.r) * dy(u, 0, 0, f.r);
  f.tile = Func("weight_grad");
  f.tile(fe, u) = f.acc(fe, u);
  f.weight = f.tile;
  biasGradient(v, f, dy, batch, out);
  return f;
}

DenseGradDataFuncs denseGradDataAlgorithm(const Vars &v, Func dy, Expr batch, const Shape &in,
                                          const Shape &out, Func blocked, int64_t block,
                                          bool flattened) {
  DenseGradDataFuncs f;
  Func clamped("clamped_dy");
  clamped(v.c, v.n) = dy(v.c, 0, 0, clamp(v.n, 0, batch - 1));
  // Three dimensions, as the dense schedule expects (the last two are unit).
  f.dense.block = block;
  f.dense.r = RDom(0, i32(out.c), 0, 1, 0, 1, "r");
  Var fb("fb");
  f.dense.acc = Func("dense_grad_data");
  f.dense.acc(v.c, fb, v.n) = 0.0f;
  f.dense.acc(v.c, fb, v.n) += blocked(v.c, f.dense.r.x, fb) * clamped(f.dense.r.x, v.n);
  f.dense.output = Func("flat_grad");
  f.dense.output(v.c, v.x, v.y, v.n) = f.dense.acc(v.c % i32(block), v.c / i32(block), v.n);
  f.output = Func("dense_grad_data_output");
  if (flattened)
    f.output(v.c, v.x, v.y, v.n) =
        f.dense.output(v.c * i32(in.h * in.w) + v.y * i32(in.w) + v.x, 0, 0, v.n);
  else
    f.output(v.c, v.x, v.y, v.n) = f.dense.output(v.c, v.x, v.y, v.n);
  return f;
}

BatchNormGradFuncs batchNormGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy,
                                          Expr batch, const Extents &in, Func gamma, Func mean,
                                          Func var) {
  BatchNormGradFuncs f;
  Expr count = cast<float>(batch * in.h * in.w);
  Func invStd("inv_std");
  invStd(v.c) = 1.0f / sqrt(var(v.c) + static_cast<float>(op.eps));
  auto xhat = [&](Expr x, Expr y, Expr n) {
    return (input(v.c, x, y, n) - mean(v.c)) * invStd(v.c);
  };
  f.sum = channelSum(v, "bn_grad_sum", batch, in,
                     [&](Expr x, Expr y, Expr n) { return dy(v.c, x, y, n); });
  f.dot = channelSum(v, "bn_grad_dot", batch, in,
                     [&](Expr x, Expr y, Expr n) { return dy(v.c, x, y, n) * xhat(x, y, n); });
  f.dbeta = Func("beta_grad");
  f.dbeta(v.c) = f.sum.total(v.c);
  f.dgamma = Func("gamma_grad");
  f.dgamma(v.c) = f.dot.total(v.c);
  // dx = gamma / sqrt(var + eps) / M * (M dy - sum dy - xhat * sum(dy xhat)).
  f.output = Func("batchnorm_grad_output");
  f.output(v.c, v.x, v.y, v.n) =
      gamma(v.c) * invStd(v.c) / count *
      (count * dy(v.c, v.x, v.y, v.n) - f.sum.total(v.c) - xhat(v.x, v.y, v.n) * f.dot.total(v.c));
  return f;
}

LayerNormGradFuncs layerNormGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy,
                                          Expr batch, const Extents &in, Func gamma) {
  LayerNormGradFuncs f;
  // Statistics only: beta does not enter the gradient.
  f.stats = layerNormAlgorithm(v, op, input, in.c, gamma, gamma);
  Func mean = f.stats.mean, invStd = f.stats.invStd;
  auto xhat = [&](Expr c, Expr x, Expr y, Expr n) {
    return (input(c, x, y, n) - mean(x, y, n)) * invStd(x, y, n);
  };
  RDom r(0, in.c, "r");
  Expr count = cast<float>(in.c);
  f.gSum = Func("layernorm_grad_sum");
  f.gSum(v.x, v.y, v.n) = 0.0f;
  f.gSum(v.x, v.y, v.n) += dy(r, v.x, v.y, v.n) * gamma(r);
  f.gDot = Func("layernorm_grad_dot");
  f.gDot(v.x, v.y, v.n) = 0.0f;
  f.gDot(v.x, v.y, v.n) += dy(r, v.x, v.y, v.n) * gamma(r) * xhat(r, v.x, v.y, v.n);
  f.output = Func("layernorm_grad_output");
  f.output(v.c, v.x, v.y, v.n) =
      invStd(v.x, v.y, v.n) * (dy(v.c, v.x, v.y, v.n) * gamma(v.c) - f.gSum(v.x, v.y, v.n) / count -
                               xhat(v.c, v.x, v.y, v.n) * f.gDot(v.x, v.y, v.n) / count);
  f.dot = channelSum(v, "layernorm_gamma_sum", batch, in,
                     [&](Expr x, Expr y, Expr n) { return dy(v.c, x, y, n) * xhat(v.c, x, y, n); });
  f.sum = channelSum(v, "layernorm_beta_sum", batch, in,
                     [&](Expr x, Expr y, Expr n) { return dy(v.c, x, y, n); });
  f.dgamma = Func("gamma_grad");
  f.dgamma(v.c) = f.dot.total(v.c);
  f.dbeta = Func("beta_grad");
  f.dbeta(v.c) = f.sum.total(v.c);
  return f;
}

ChannelwiseGradFuncs channelwiseGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy,
                                              Expr batch, const Extents &in,
                                              const ImageParam &weight) {
  ChannelwiseGradFuncs f;
  Func w = channelValues(op, weight);
  bool prelu = op.kind == plan::LayerKind::PReLU;
  f.output = Func("channelwise_grad_output");
  Expr g = dy(v.c, v.x, v.y, v.n), x = input(v.c, v.x, v.y, v.n);
  f.output(v.c, v.x, v.y, v.n) = prelu ? select(x > 0.0f, g, w(v.c) * g) : g * w(v.c);
  f.sum = channelSum(v, "channelwise_weight_sum", batch, in, [&](Expr px, Expr py, Expr n) {
    Expr value = input(v.c, px, py, n), grad = dy(v.c, px, py, n);
    return prelu ? select(value > 0.0f, 0.0f, grad * value) : grad * value;
  });
  // The gradient in the weight's own dimensions, channels last.
  std::vector<Var> args;
  for (int d = 0; d < weight.dimensions(); ++d)
    args.push_back(Var("w" + std::to_string(d)));
  f.weight = Func("channelwise_weight_grad");
  if (prelu && op.num_parameters == 1) {
    RDom channels(0, in.c, "channels");
    f.weight(args) = sum(f.sum.total(channels));
  } else {
    f.weight(args) = f.sum.total(args.back());
  }
  return f;
}

namespace {

/// A pooling gradient's gather: `term` (over its RDom) summed at each input
/// pixel, in `name`_sum, and `name` the result.
PoolFuncs gatheredSum(const Vars &v, Expr term, const std::string &name) {
  PoolFuncs f;
  f.acc = Func(name + "_sum");
  f.acc(v.c, v.x, v.y, v.n) = 0.0f;
  f.acc(v.c, v.x, v.y, v.n) += term;
  f.output = Func(name);
  f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.x, v.y, v.n);
  return f;
}

} // namespace

PoolGradFuncs poolGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy, Func y,
                                const Shape &in, const Shape &out) {
  PoolGradFuncs f;
  bool isMax = op.kind == plan::LayerKind::MaxPool;
  if (isMax) {
    // The first maximum of each window in row-major order, as PyTorch's
    // max_pool2d picks it: the tap index kx + ky * kw.
    Func padded = BoundaryConditions::constant_exterior(
        input, -std::numeric_limits<float>::infinity(), spatialBox(in));
    RDom w(0, i32(op.kernel[1]), 0, i32(op.kernel[0]), "window");
    Expr ix = v.x * i32(op.stride[1]) + w.x * i32(op.dilation[1]) - i32(op.pad[1]);
    Expr iy = v.y * i32(op.stride[0]) + w.y * i32(op.dilation[0]) - i32(op.pad[0]);
    f.argmax = Func("pool_argmax");
    Tuple best = argmax(w, padded(v.c, ix, iy, v.n));
    f.argmax(v.c, v.x, v.y, v.n) = best[0] + best[1] * i32(op.kernel[1]);
  }
  // Input pixel x is tap k of output o when x + pad = o * stride + k * dilation.
  RDom t(0, i32(op.kernel[1]), 0, i32(op.kernel[0]), "taps");
  Expr tx = v.x + i32(op.pad[1]) - t.x * i32(op.dilation[1]);
  Expr ty = v.y + i32(op.pad[0]) - t.y * i32(op.dilation[0]);
  Expr ox = tx / i32(op.stride[1]), oy = ty / i32(op.stride[0]);
  Expr valid = tx % i32(op.stride[1]) == 0 && ty % i32(op.stride[0]) == 0 && ox >= 0 &&
               ox < i32(out.w) && oy >= 0 && oy < i32(out.h);
  Expr cx = clamp(ox, 0, i32(out.w - 1)), cy = clamp(oy, 0, i32(out.h - 1));
  Expr g = dy(v.c, cx, cy, v.n);
  Expr term;
  switch (op.kind) {
  case plan::LayerKind::MaxPool:
    term = select(valid && f.argmax(v.c, cx, cy, v.n) == t.x + t.y * i32(op.kernel[1]), g, 0.0f);
    break;
  case plan::LayerKind::AvgPool:
    term = select(valid, g / cast<float>(poolDivisor(op, in, cx, cy)), 0.0f);
    break;
  default: {
    // y = sqrt(K / divisor * sum x^2): dy/dx = K / divisor * x / y (0 where y is 0).
    Expr pooled = y(v.c, cx, cy, v.n);
    Expr k = static_cast<float>(op.kernel[0] * op.kernel[1]);
    Expr scale = k / cast<float>(poolDivisor(op, in, cx, cy));
    term = select(valid && pooled > 0.0f,
                  g * scale * input(v.c, v.x, v.y, v.n) / max(pooled, 1e-30f), 0.0f);
    break;
  }
  }
  f.pool = gatheredSum(v, term, "pool_grad");
  return f;
}

PoolGradFuncs adaptivePoolGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy,
                                        const Shape &in) {
  Expr h = i32(in.h), w = i32(in.w), oh = i32(op.output_size[0]), ow = i32(op.output_size[1]);
  PoolGradFuncs f;
  bool isMax = op.kind == plan::LayerKind::AdaptiveMaxPool;
  if (isMax) {
    // The first maximum of each window in row-major order, as PyTorch's
    // adaptive_max_pool2d picks it, as the input pixel's index y * W + x.
    AdaptiveWindow win = adaptiveWindow(op, in, v.x, v.y);
    RDom r = adaptiveTaps(op, in, win, "window");
    Expr ix = min(win.x0 + r.x, w - 1), iy = min(win.y0 + r.y, h - 1);
    Tuple best = argmax(r, input(v.c, ix, iy, v.n));
    f.argmax = Func("adaptive_pool_argmax");
    f.argmax(v.c, v.x, v.y, v.n) = (win.y0 + best[1]) * w + win.x0 + best[0];
  }
  Expr y = v.y, x = v.x;
  Expr firstY = adaptiveFirstOutput(y, h, oh), lastY = adaptiveLastOutput(y, h, oh);
  Expr firstX = adaptiveFirstOutput(x, w, ow), lastX = adaptiveLastOutput(x, w, ow);
  RDom t(0, i32(adaptiveMostCovering(in.w, op.output_size[1])), 0,
         i32(adaptiveMostCovering(in.h, op.output_size[0])), "outputs");
  t.where(firstX + t.x <= lastX && firstY + t.y <= lastY);
  Expr ox = min(firstX + t.x, ow - 1), oy = min(firstY + t.y, oh - 1);
  Expr g = dy(v.c, ox, oy, v.n);
  Expr term;
  if (isMax) {
    term = select(f.argmax(v.c, ox, oy, v.n) == y * w + x, g, 0.0f);
  } else {
    AdaptiveWindow win = adaptiveWindow(op, in, ox, oy);
    term = g / cast<float>((win.y1 - win.y0) * (win.x1 - win.x0));
  }
  f.pool = gatheredSum(v, term, "adaptive_pool_grad");
  return f;
}

PoolFuncs broadcastGradAlgorithm(const Vars &v, Func dy, const std::vector<Func> &factors,
                                 const Extents &from, bool sumPixels) {
  auto product = [&](Expr x, Expr y) {
    Expr p = dy(v.c, x, y, v.n);
    for (const Func &f : factors)
      p = p * f(v.c, x, y, v.n);
    return p;
  };
  PoolFuncs f;
  f.output = Func("broadcast_grad");
  if (sumPixels) {
    RDom r(0, from.w, 0, from.h, "r");
    f.acc = Func("broadcast_grad_sum");
    f.acc(v.c, v.n) = 0.0f;
    f.acc(v.c, v.n) += product(r.x, r.y);
    f.output(v.c, v.x, v.y, v.n) = f.acc(v.c, v.n);
  } else {
    f.output(v.c, v.x, v.y, v.n) = product(v.x, v.y);
  }
  return f;
}

Func globalPoolGradAlgorithm(const Vars &v, Func dy, const Shape &in) {
  Func f("global_pool_grad");
  f(v.c, v.x, v.y, v.n) = dy(v.c, 0, 0, v.n) / static_cast<float>(in.h * in.w);
  return f;
}

PoolFuncs softmaxGradAlgorithm(const Vars &v, Func y, Func dy, const Shape &shape) {
  // dx = y * (dy - sum_c dy * y)
  PoolFuncs f;
  RDom r(0, i32(shape.c), "r");
  f.acc = Func("softmax_grad_dot");
  f.acc(v.x, v.y, v.n) = 0.0f;
  f.acc(v.x, v.y, v.n) += dy(r, v.x, v.y, v.n) * y(r, v.x, v.y, v.n);
  f.output = Func("softmax_grad");
  f.output(v.c, v.x, v.y, v.n) =
      y(v.c, v.x, v.y, v.n) * (dy(v.c, v.x, v.y, v.n) - f.acc(v.x, v.y, v.n));
  return f;
}

PoolFuncs lrnGradAlgorithm(const Vars &v, const Op &op, Func input, Func dy, const Shape &in) {
  // y_j = x_j D_j^-beta, D_j = k + alpha / size * sum_{i in window(j)} x_i^2, so
  // dx_j = dy_j D_j^-beta
  //        - 2 alpha beta / size * x_j * sum_{i: j in window(i)} dy_i x_i D_i^(-beta-1).
  PoolFuncs f;
  Func x = BoundaryConditions::constant_exterior(input, 0.0f, spatialBox(in));
  RDom r(0, i32(op.size), "r");
  Func sum("lrn_sum");
  sum(v.c, v.x, v.y, v.n) = 0.0f;
  Expr neighbour = x(v.c + r - i32(op.size / 2), v.x, v.y, v.n);
  sum(v.c, v.x, v.y, v.n) += neighbour * neighbour;
  Func base("lrn_base");
  base(v.c, v.x, v.y, v.n) =
      static_cast<float>(op.k) + static_cast<float>(op.alpha / op.size) * sum(v.c, v.x, v.y, v.n);
  Func term("lrn_term");
  term(v.c, v.x, v.y, v.n) =
      select(v.c >= 0 && v.c < i32(in.c),
             dy(clamp(v.c, 0, i32(in.c - 1)), v.x, v.y, v.n) * x(v.c, v.x, v.y, v.n) *
                 pow(base(clamp(v.c, 0, i32(in.c - 1)), v.x, v.y, v.n),
                     -static_cast<float>(op.beta) - 1.0f),
             0.0f);
  // Channel i's window covers j when i = j + size/2 - r for r in [0, size).
  f.acc = Func("lrn_grad_sum");
  f.acc(v.c, v.x, v.y, v.n) = 0.0f;
  f.acc(v.c, v.x, v.y, v.n) += term(v.c + i32(op.size / 2) - r, v.x, v.y, v.n);
  f.output = Func("lrn_grad");
  f.output(v.c, v.x, v.y, v.n) =
      dy(v.c, v.x, v.y, v.n) * pow(base(v.c, v.x, v.y, v.n), -static_cast<float>(op.beta)) -
      static_cast<float>(2.0 * op.alpha * op.beta / op.size) * input(v.c, v.x, v.y, v.n) *
          f.acc(v.c, v.x, v.y, v.n);
  f.perPixel = {sum, term};
  return f;
}

Func flattenGradAlgorithm(const Vars &v, Func dy, const Shape &in) {
  Func f("flatten_grad");
  f(v.c, v.x, v.y, v.n) = dy(v.c * i32(in.h * in.w) + v.y * i32(in.w) + v.x, 0, 0, v.n);
  return f;
}

Func channelGatherGradAlgorithm(const Vars &v, const Op &op, Func dy, const Shape &in,
                                const Shape &out) {
  Func f("channel_gather_grad");
  if (op.kind == LayerKind::Chunk) {
    Expr local = v.c - i32(chunkStart(in.c, op.chunks, op.index));
    Expr inside = local >= 0 && local < i32(out.c);
    f(v.c, v.x, v.y, v.n) =
        select(inside, dy(clamp(local, 0, i32(out.c - 1)), v.x, v.y, v.n), 0.0f);
  } else {
    f(v.c, v.x, v.y, v.n) = dy(shuffleTarget<Expr>(v.c, i32(in.c), i32(op.groups)), v.x, v.y, v.n);
  }
  return f;
}

std::vector<Func> concatGradAlgorithm(const Vars &v, Func dy, size_t inputs) {
  std::vector<Func> slices;
  Expr offset = 0;
  for (size_t i = 0; i < inputs; ++i) {
    Func f("concat_grad");
    f(v.c, v.x, v.y, v.n) = dy(v.c + offset, v.x, v.y, v.n);
    slices.push_back(f);
    offset = offset + f.output_buffer().dim(0).extent();
  }
  return slices;
}

} // namespace cnnc::halide
