//===- Gradients.h - Training-mode and gradient algorithms -----*- C++ -*-===//
//
// THE ADJOINTS. The Halide algorithm of every training step that inference
// does not have: batchnorm on batch statistics, dropout masking, and the
// gradient of every layer, written per op as gathers (each output element
// of a gradient is a sum its step computes, never a scatter), so that the
// schedules (Schedules.h) can vectorize over channels and run rows or tiles
// in parallel exactly as the forward pass does. docs/training.md derives
// each formula and says why per-op adjoints were chosen over Halide's
// propagate_adjoints.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_CNNTOHALIDE_GRADIENTS_H
#define CNNC_CONVERSION_CNNTOHALIDE_GRADIENTS_H

#include "Algorithms.h"

namespace cnnc::halide {

/// A per-channel sum over the batch's pixels: per-row partial sums
/// (parallel over rows) and their total.
struct ChannelSum {
  Halide::Func rows, total;
};

/// Batchnorm on the batch's statistics: the sums of values and of squared
/// deviations, the mean and the biased variance (outputs, for the running
/// statistics and the gradient), and the normalized output.
struct BatchNormTrainFuncs {
  ChannelSum sum, squares;
  Halide::Func mean, var, output;
};
BatchNormTrainFuncs batchNormTrainAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                            Halide::Expr batch, const Extents &in,
                                            Halide::Func gamma, Halide::Func beta,
                                            const ActivationLayer &act);

/// a * b elementwise (dropout: x * mask forward, dy * mask backward).
Halide::Func multiplyAlgorithm(const Vars &v, Halide::Func a, Halide::Func b);

/// dz = dy * act'(z), from the activation's output y or, for those whose
/// derivative reads it (plan::derivativeFrom), its input z.
Halide::Func activationGradAlgorithm(const Vars &v, Halide::Func value, Halide::Func dy,
                                     const ActivationLayer &act);

/// Conv filters w(kx, ky, i, o) to t(c, o_in_group, kx, ky): input channels
/// innermost, zero beyond the input channels, the connection `table`
/// (connectionTable) applied when defined. The filters' counts per group
/// come from the weight's extents, the number of `groups` from the caller
/// (a depthwise conv's: its filter count).
Halide::Func transposeWeightsAlgorithm(Halide::Expr groups, const ConvWeight &weight,
                                       Halide::Func table);

/// The conv data gradient, a conv of dy with the transposed filters: `conv`
/// is its accumulation over the padded input (`padded` is dy with zeros
/// outside). With zero padding `conv` is over the input itself and `output`
/// is it; replicate / reflect padding fold the padded border back onto the
/// pixels it copies (`fold`, a scatter over the padded image).
///
/// A strided conv (without dilation) is split by phase: pixel x = s q + a
/// receives only the taps k = a + pad (mod s), so each phase (a_x, a_y) is a
/// stride-1 conv of dy with its subset of taps (`phases`, over `phaseShapes`,
/// with the windows of `phaseOps`; a phase without taps is zero), and
/// `conv.output` interleaves them. (Gathering every tap and selecting the
/// ones whose source pixel exists did s_x s_y times the work: ResNet-18's
/// stride-2 data gradients ran at a fifth of the stride-1 ones.)
struct ConvGradDataFuncs {
  ConvFuncs conv;
  std::vector<ConvFuncs> phases; ///< strided: one stride-1 conv per phase (ax fastest)
  std::vector<plan::Op> phaseOps;
  std::vector<plan::Shape> phaseShapes;
  Halide::Func fold;  ///< defined only for replicate / reflect padding
  plan::Shape domain; ///< the shape `conv` is computed over
};
ConvGradDataFuncs convGradDataAlgorithm(const Vars &v, const plan::Op &op, Halide::Func dy,
                                        const plan::Shape &in, const plan::Shape &out,
                                        Halide::Func transposed);

/// A parameter gradient reduced over the batch (and the pixels): `acc`
/// accumulates a tile of `tile`, `weight` is the gradient in the parameter's
/// layout, `bias` the sum of dy per output channel (when the layer has one).
/// `input` is the padded (conv) or flattened (dense) input, materialized.
struct WeightGradFuncs {
  Halide::Func input, acc, tile, weight, biasAcc, bias;
  Halide::RDom r;
};
/// (`table`: the conv's connection table or undefined.)
WeightGradFuncs convGradWeightAlgorithm(const Vars &v, const plan::Op &op, Halide::Func dy,
                                        Halide::Func input, Halide::Expr batch,
                                        const plan::Shape &in, const plan::Shape &out,
                                        Halide::Func table, int vec);
WeightGradFuncs denseGradWeightAlgorithm(const Vars &v, Halide::Func dy, Halide::Func input,
                                         Halide::Expr batch, const plan::Shape &in,
                                         const plan::Shape &out, bool flattened, int vec);

/// The dense data gradient dx(f, n) = sum_u w(f, u) dy(u, n), a dense layer
/// over the weights in blocks of features (denseBlockFeatures):
/// `dense.output` is dx in flatten order; `output` is it in the input's
/// layout.
struct DenseGradDataFuncs {
  DenseFuncs dense;
  Halide::Func output;
};
DenseGradDataFuncs denseGradDataAlgorithm(const Vars &v, Halide::Func dy, Halide::Expr batch,
                                          const plan::Shape &in, const plan::Shape &out,
                                          Halide::Func blocked, int64_t block, bool flattened);

/// Batchnorm's gradient: the sums of dy and dy * xhat (the beta and gamma
/// gradients), and dx.
struct BatchNormGradFuncs {
  ChannelSum sum, dot;
  Halide::Func dgamma, dbeta, output;
};
BatchNormGradFuncs batchNormGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                          Halide::Func dy, Halide::Expr batch, const Extents &in,
                                          Halide::Func gamma, Halide::Func mean, Halide::Func var);

/// Pooling gradients gather over the window taps that cover each input
/// pixel; max pooling recomputes the window's first maximum (`argmax`, as
/// PyTorch picks it). `y` is the pool's output (L2 pooling only).
struct PoolGradFuncs {
  PoolFuncs pool;
  Halide::Func argmax; ///< max pooling only
};
PoolGradFuncs poolGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                Halide::Func dy, Halide::Func y, const plan::Shape &in,
                                const plan::Shape &out);
Halide::Func globalPoolGradAlgorithm(const Vars &v, Halide::Func dy, const plan::Shape &in);
/// Adaptive pooling's input gradient: each input pixel gathers over the
/// outputs whose windows hold it (adaptiveFirstOutput..adaptiveLastOutput);
/// max pooling recomputes each window's first maximum as an input index
/// (`argmax`). `input` is read by max pooling only.
PoolGradFuncs adaptivePoolGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                        Halide::Func dy, const plan::Shape &in);

/// d(input) of an add or mul (BroadcastGrad): dy times `factors` (the other
/// inputs of a mul, read at dy's pixels), summed over dy's pixels (`from`)
/// when `sumPixels` (the input has 1x1 pixels and dy more); `acc` is that
/// sum (undefined when there is none).
PoolFuncs broadcastGradAlgorithm(const Vars &v, Halide::Func dy,
                                 const std::vector<Halide::Func> &factors, const Extents &from,
                                 bool sumPixels);
PoolFuncs softmaxGradAlgorithm(const Vars &v, Halide::Func y, Halide::Func dy,
                               const plan::Shape &shape);
/// Layernorm: with x^ = (x - mean) invStd and g = dy gamma(c), per pixel,
/// dx = invStd (g - sum_c g / C - x^ sum_c g x^ / C) (`gSum`, `gDot`);
/// d(gamma) and d(beta) are the per-channel sums of dy x^ and dy.
struct LayerNormGradFuncs {
  LayerNormFuncs stats;
  Halide::Func gSum, gDot, output, dgamma, dbeta;
  ChannelSum dot, sum;
};
LayerNormGradFuncs layerNormGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                          Halide::Func dy, Halide::Expr batch, const Extents &in,
                                          Halide::Func gamma);

/// layer_scale and prelu: dx = dy * d(out)/dx, and the weight's gradient,
/// the per-channel sum of dy * d(out)/dw (x; for prelu x where x <= 0),
/// summed over the channels too for prelu's one shared slope; `weight` has
/// the weight buffer's dimensions.
struct ChannelwiseGradFuncs {
  ChannelSum sum;
  Halide::Func output, weight;
};
ChannelwiseGradFuncs channelwiseGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input,
                                              Halide::Func dy, Halide::Expr batch,
                                              const Extents &in, const Halide::ImageParam &weight);

/// LRN: `perPixel` holds the window sums and the per-channel terms summed
/// back over the windows.
PoolFuncs lrnGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func input, Halide::Func dy,
                           const plan::Shape &in);
Halide::Func flattenGradAlgorithm(const Vars &v, Halide::Func dy, const plan::Shape &in);
/// A chunk's or a channel shuffle's input gradient: each output channel's
/// gradient back on its input channel (zero on the channels a chunk leaves
/// out).
Halide::Func channelGatherGradAlgorithm(const Vars &v, const plan::Op &op, Halide::Func dy,
                                        const plan::Shape &in, const plan::Shape &out);
/// One slice of the concat's output gradient per input, of `inputs`: each
/// one starts where the output buffers of those before it end.
std::vector<Halide::Func> concatGradAlgorithm(const Vars &v, Halide::Func dy, size_t inputs);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_GRADIENTS_H
