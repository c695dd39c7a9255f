//===- GpuSchedules.h - GPU schedules of the step pipelines ----*- C++ -*-===//
//
// THE GPU SCHEDULES. One rule for every step kind (the CPU schedules of
// Schedules.h are per kind): every stage that must be stored (a reduction,
// an output, a Func its algorithm already made a root) becomes a kernel over
// its pure dimensions, in thread blocks of up to 256 threads, channels
// across the threads; a reduction that only its step's output reads, at the
// output's own coordinates, is computed per thread in registers; every
// other Func is inlined. No `gpu_lanes`, so the same schedule serves CUDA
// and OpenCL. A first cut, correct for every step; docs/gpu.md says what it
// leaves on the table.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_CNNTOHALIDE_GPUSCHEDULES_H
#define CNNC_CONVERSION_CNNTOHALIDE_GPUSCHEDULES_H

#include "cnnc/Codegen/ModelPlan.h"

#include <Halide.h>

#include <vector>

namespace cnnc::halide {

/// Places every Func that `outputs` read on the GPU. `hint`: the step's
/// output shape, which sizes the thread blocks of (c, x, y, n) stages.
void scheduleForGpu(const std::vector<Halide::Func> &outputs, const plan::Shape &hint);

} // namespace cnnc::halide

#endif // CNNC_CONVERSION_CNNTOHALIDE_GPUSCHEDULES_H
