//===- Algorithms.h - The Halide algorithm of every layer ------*- C++ -*-===//
//
// THE ALGORITHMS. One function per step kind, each defining Funcs over
// (c, x, y, n): every activation buffer keeps channels innermost, so that the
// schedules can vectorize over channels and broadcast one input value per
// multiply-add (docs/codegen.md). Parameters arrive in PyTorch's order,
// reversed into Halide's innermost-first dimensions (a conv filter O,I,KH,KW
// is w(kx, ky, i, o)). No scheduling here: each function returns the Funcs
// that its schedule (Schedules.h) needs to place.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_CNNTOHALIDE_ALGORITHMS_H
#define CNNC_CONVERSION_CNNTOHALIDE_ALGORITHMS_H

#include "Activations.h"
#include "cnnc/Codegen/ModelPlan.h"

#include <Halide.h>

namespace cnnc::halide {

/// The pure variables of every activation Func.
struct Vars {
  Halide::Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
};

/// A tensor's per-sample extents as expressions: its buffer's sizes, which
/// are constants where the step's buffers are declared with their shapes
/// and run-time values in a size-generic step (plan::sizeGeneric).
struct Extents {
  Halide::Expr c, w, h;
};
Extents extentsOf(const Halide::OutputImageParam &buffer);

/// The (c, x, y) box of a C x H x W tensor; the batch stays unbounded.
Halide::Region spatialBox(const plan::Shape &s);

Halide::Expr i32(int64_t v);

/// A conv's input extended by its padding mode (zeros, replicate, reflect);
/// `channels`, where defined, its channel count read at run time.
Halide::Func convBoundary(const plan::Op &op, Halide::Func input, const plan::Shape &in,
                          Halide::Expr channels = Halide::Expr());

/// The number an average (or L2) pool divides output (x, y)'s window sum
/// by, as PyTorch counts it (count_include_pad, ceil mode).
Halide::Expr poolDivisor(const plan::Op &op, const plan::Shape &in, Halide::Expr x, Halide::Expr y);

/// A conv's connection table as a 0/1 mask over (input channel of the
/// group, filter), zero outside; undefined when the conv has no table. The
/// mask is a constant buffer embedded in the generated function: `name` must
/// be unique in the library (the lowering derives it from the function's
/// name), since linked modules would otherwise share one buffer.
Halide::Func connectionTable(const plan::Op &op, const plan::Shape &in, const plan::Shape &out,
                             const std::string &name);

/// Conv: `padded` input, the accumulation `conv` (bias, then += over input
/// channels and the window), and `output` (activation applied).
struct ConvFuncs {
  Halide::Func padded, conv, output;
  Halide::RDom r;
};
/// `weights(o, i, kx, ky)` packed and `bias(o)` folded, both padded in o.
/// `inChannels`, where defined, is the input's channel count read at run
/// time (an input-channel-generic conv of groups 1), else `in.c`.
ConvFuncs convAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                        const plan::Shape &in, const plan::Shape &out, Halide::Func weights,
                        Halide::Func bias, const ActivationLayer &act,
                        Halide::Expr inChannels = Halide::Expr());

/// A conv's filters as w(kx, ky, i, o), with the input channels per group
/// and the filter count: its weight buffer, or for a dense layer over
/// channels (a 1x1 conv to the plan) nn.Linear's (i, o) buffer read as
/// 1x1 filters.
struct ConvWeight {
  Halide::Func w;
  Halide::Expr inPerGroup, filters;
};
ConvWeight convWeight(const Halide::ImageParam &weight);

/// The prepare step of a conv: PyTorch's w(kx, ky, i, o) to packed(o, i, kx,
/// ky), zero beyond `outChannels` (the output buffer's extent decides how
/// far; the filters' count, read from the weight buffer), the connection `table` applied when
/// defined, and a fused batchnorm folded in (w * gamma / sqrt(var + eps), (b - mean) * gamma /
/// sqrt(var + eps) + beta).
struct PackedWeights {
  Halide::Func packed, folded;
};
struct BatchNormParams {
  Halide::Func gamma, beta, mean, var;
  double eps;
};
PackedWeights convPrepare(Halide::Expr outChannels, Halide::Func weight, Halide::Func bias,
                          Halide::Func table, const BatchNormParams *bn);

/// Dense: acc(ui, ub, n) for unit ub * block + ui, over the input read in
/// PyTorch's flatten order (c, y, x), from weights packed in blocks of
/// units, weights(ui, feature, ub); `output` is in units.
struct DenseFuncs {
  Halide::Func acc, output;
  Halide::RDom r;
  int64_t block = 0;
};
DenseFuncs denseAlgorithm(const Vars &v, Halide::Func input, Halide::Expr batch,
                          const plan::Shape &in, Halide::Func weights, int64_t block,
                          Halide::Func bias, const ActivationLayer &act);
/// w(f, u) to packed(ui, f, ub) with u = ub * block + ui, zero beyond
/// `units`; the bias zero beyond them too.
PackedWeights densePrepare(int64_t units, int64_t block, Halide::Func weight, Halide::Func bias);
/// w(f, u) in blocks of features, t(fi, u, fb) with f = fb * block + fi, zero
/// beyond `features`: the dense data gradient's packed weights.
Halide::Func denseBlockFeatures(int64_t features, int64_t block, Halide::Func weight);

/// Pooling: `acc` reduces a window, `output` finishes (divides, roots).
/// Reductions over channels also have Funcs computed once per pixel before
/// `acc` (softmax's maximum and exponentials) in `perPixel`.
struct PoolFuncs {
  Halide::Func acc, output;
  std::vector<Halide::Func> perPixel;
};
PoolFuncs poolAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                        const plan::Shape &in);
PoolFuncs globalAvgPoolAlgorithm(const Vars &v, Halide::Func input, const Extents &in);
/// Adaptive pooling to op.output_size: each output's window
/// (LayerArithmetic.h's adaptiveStart, adaptiveEnd) reduced over an RDom of
/// the largest window, predicated to the output's own.
PoolFuncs adaptivePoolAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                const plan::Shape &in);
/// One output's adaptive window along each axis: [y0, y1) x [x0, x1).
struct AdaptiveWindow {
  Halide::Expr y0, y1, x0, x1;
};
AdaptiveWindow adaptiveWindow(const plan::Op &op, const plan::Shape &in, Halide::Expr x,
                              Halide::Expr y);
/// The taps of `win` (x, y from its corner): an RDom of the largest
/// window, predicated to this one.
Halide::RDom adaptiveTaps(const plan::Op &op, const plan::Shape &in, const AdaptiveWindow &win,
                          const std::string &name);

/// Softmax and LRN reduce over channels: `acc` holds the per-pixel reduction.
PoolFuncs softmaxAlgorithm(const Vars &v, Halide::Func input, const plan::Shape &in);
PoolFuncs lrnAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                       const plan::Shape &in);

/// Layernorm over the C channels of each pixel: the per-pixel `sum`, and
/// `squares` of the deviations from its mean (two passes, as PyTorch);
/// `mean` and `invStd` = 1 / sqrt(biased variance + eps) follow from them,
/// then `output` = (x - mean) * invStd * gamma(c) + beta(c). The gradient
/// recomputes the statistics with the same Funcs.
struct LayerNormFuncs {
  Halide::Func sum, mean, squares, invStd, output;
};
LayerNormFuncs layerNormAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                  Halide::Expr channels, Halide::Func gamma, Halide::Func beta);

/// The learned value of channel c of a Channelwise layer (layer_scale,
/// prelu) from its weight buffer, whose last dimension is the channel
/// (C x 1 x 1 or C), or of its one shared slope (prelu's num_parameters 1).
Halide::Func channelValues(const plan::Op &op, const Halide::ImageParam &weight);
/// layer_scale: x * w(c); prelu: x > 0 ? x : w(c) * x (`w`: channelValues).
Halide::Func channelwiseAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                  Halide::Func w);

/// Elementwise steps: a single output Func.
Halide::Func batchNormAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                const BatchNormParams &bn, const ActivationLayer &act);
Halide::Func activationAlgorithm(const Vars &v, Halide::Func input, const ActivationLayer &act);
Halide::Func addAlgorithm(const Vars &v, const std::vector<Halide::Func> &inputs,
                          const ActivationLayer &act);
Halide::Func mulAlgorithm(const Vars &v, const std::vector<Halide::Func> &inputs,
                          const ActivationLayer &act);
/// `input` of shape `from` read at the elements of `to`: 1x1 pixels are
/// broadcast (PyTorch's N x C x 1 x 1 against N x C x H x W), and so is a
/// single channel (stochastic depth's one value per sample); otherwise the
/// input itself.
Halide::Func broadcastTo(const Vars &v, Halide::Func input, const plan::Shape &from,
                         const plan::Shape &to);
/// The inputs one after another along channels; `channels`: their counts.
Halide::Func concatAlgorithm(const Vars &v, const std::vector<Halide::Func> &inputs,
                             const std::vector<Halide::Expr> &channels);
Halide::Func flattenAlgorithm(const Vars &v, Halide::Func input, const plan::Shape &in);
/// A chunk or a channel shuffle: each output channel one input channel
/// (LayerArithmetic.h's chunkStart and shuffleSource).
Halide::Func channelGatherAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                    const plan::Shape &in);

/// Augment: output pixel (x, y) of sample n samples the input at
/// (m0 x + m1 y + m2, m3 x + m4 y + m5), m = maps(0..5, 0, 0, n), pixel
/// centers at integers, bilinearly, zero outside the image (grid_sample's
/// bilinear / zeros / align_corners=False in pixel units).
Halide::Func augmentAlgorithm(const Vars &v, Halide::Func input, Halide::Func maps,
                              const plan::Shape &in);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_ALGORITHMS_H
