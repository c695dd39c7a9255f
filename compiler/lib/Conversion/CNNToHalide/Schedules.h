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

namespace cnnc::halide {

void scheduleConv(const Vars &v, ConvFuncs &f, const plan::Op &op, const plan::Shape &in,
                  const plan::Shape &out, int vec);
void scheduleDense(const Vars &v, DenseFuncs &f, const plan::Shape &out, int vec);
void schedulePool(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleGlobalPool(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleChannelReduction(const Vars &v, PoolFuncs &f, const plan::Shape &out, int vec);
void scheduleElementwise(const Vars &v, Halide::Func out, const plan::Shape &shape, int vec);
void schedulePrepare(PackedWeights &p);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_SCHEDULES_H
