//===- Schedules.h - CPU schedule templates, one per step kind -*- C++ -*-===//
//
// THE SCHEDULES. Each template places the Funcs that the matching algorithm
// (Algorithms.h) returned, for a target whose natural float vector has `vec`
// lanes. Shapes are compile-time constants; the batch is not. What each
// choice bought is measured in docs/performance.md.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_CNNTOHALIDE_SCHEDULES_H
#define CNNC_CONVERSION_CNNTOHALIDE_SCHEDULES_H

#include "Algorithms.h"
#include "Gradients.h"

namespace cnnc::halide {

void scheduleConv(const Vars &v, ConvFuncs &f, const plan::Op &op, const plan::Shape &in,
                  const plan::Shape &out, int vec);
void scheduleDense(const Vars &v, DenseFuncs &f, const plan::Shape &out, int vec);
void schedulePool(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleGlobalPool(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleChannelReduction(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleElementwise(const Vars &v, Halide::Func out, const plan::Shape &shape, int vec);
void scheduleLayerNorm(const Vars &v, LayerNormFuncs &f, const plan::Shape &shape, int vec);
/// `sizeGeneric`: the conv's sizes are read at run time (scheduleRelayout).
void schedulePrepare(PackedWeights &p, bool sizeGeneric, int vec);
/// A weight layout change whose first two dimensions are transposed
/// against the source's (packing, the conv data gradient's filters).
void scheduleTranspose(Halide::Func f, int vec);
/// The same for conv filters of any size, (o, i, kx, ky) or (c, o, kx, ky)
/// from the source's (kx, ky, i, o), the first dimension padded to whole
/// vectors; `firstIsSourceOutermost`: the first is the source's o.
void scheduleRelayout(Halide::Func f, bool firstIsSourceOutermost, int vec);
/// A copy into blocks whose innermost dimension is the source's (the dense
/// data gradient's weights).
void scheduleBlockedCopy(Halide::Func f, int vec);
void scheduleAugment(const Vars &v, Halide::Func out, const plan::Shape &shape, int vec);

// Training steps (GradientSchedules.cpp).
void scheduleBatchNormTrain(const Vars &v, BatchNormTrainFuncs &f, const plan::Shape &shape,
                            int vec);
void scheduleBatchNormGrad(const Vars &v, BatchNormGradFuncs &f, const plan::Shape &shape, int vec);
void scheduleLayerNormGrad(const Vars &v, LayerNormGradFuncs &f, const plan::Shape &shape, int vec);
void scheduleChannelwiseGrad(const Vars &v, ChannelwiseGradFuncs &f, const plan::Shape &shape,
                             int vec);
void scheduleConvGradData(const Vars &v, ConvGradDataFuncs &f, const plan::Op &op,
                          const plan::Shape &dy, int vec);
/// `outer` x `inner`: the extents of the tile's first two dimensions (conv:
/// filters x input channels per group; dense: features x units); the first
/// is vectorized, the second unrolled. `taps`: a conv's kernel width (0 for
/// a dense layer).
/// `separateOutput`: the tile is not the pipeline's output (conv's is
/// transposed to PyTorch's layout after it).
void scheduleWeightGrad(const Vars &v, WeightGradFuncs &f, int64_t outer, int64_t inner,
                        int64_t taps, bool separateOutput, int vec);
/// A conv's weight gradient (Gradients.h's convGradWeightAlgorithm).
void scheduleConvWeightGrad(const Vars &v, WeightGradFuncs &f, const plan::Op &op,
                            const plan::Shape &in, const plan::Shape &out, int vec);
void scheduleDenseGradData(const Vars &v, DenseGradDataFuncs &f, const plan::Shape &in,
                           bool flattened, int vec);
void schedulePoolGrad(const Vars &v, PoolGradFuncs &f, const plan::Shape &in,
                      const plan::Shape &out, int vec);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_SCHEDULES_H
