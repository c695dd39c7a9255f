//===- HalideLowering.h - Model plan steps to Halide modules ---*- C++ -*-===//
//
// The boundary of Halide: callers see no Halide type. lowerFunctions() turns
// the plan's distinct step functions into Halide pipelines (algorithm from
// Algorithms.cpp, schedule from Schedules.cpp) and compiles the chosen subset
// into one object file, optionally with its loop-nest dump (`stmt`).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CONVERSION_HALIDELOWERING_H
#define CNNC_CONVERSION_HALIDELOWERING_H

#include "cnnc/Codegen/ModelPlan.h"

#include <string>
#include <vector>

namespace cnnc {

/// Checks a Halide target string ("host", "x86-64-linux-avx2-avx512", ...)
/// and returns its canonical form, or "" with `error` set.
std::string canonicalTarget(const std::string &target, std::string &error);

/// Compiles `functions` (steps of `plan`, one per generated function) for
/// `target` without the Halide runtime into the object `objectPath`, and the
/// loop nests into `stmtPath` when it is not empty. False with `error` set
/// when Halide rejects a pipeline.
bool compileFunctions(const plan::ModelPlan &plan, const std::vector<const plan::Step *> &functions,
                      const std::string &target, const std::string &objectPath,
                      const std::string &stmtPath, std::string &error);

struct DeviceKernel;
/// Compiles one optimizer kernel of a GPU target (DeviceApi.h's
/// kDeviceOptimizerKernels, DeviceOptimizer.cpp) into `objectPath`: one
/// object each, as for the steps (Halide's link_modules keeps one module's
/// GPU code only).
bool compileDeviceKernel(const std::string &target, const DeviceKernel &kernel,
                         const std::string &objectPath, std::string &error);

/// Compiles the Halide runtime for `target` into `objectPath`.
bool compileHalideRuntime(const std::string &target, const std::string &objectPath,
                          std::string &error);

} // namespace cnnc

#endif // CNNC_CONVERSION_HALIDELOWERING_H
