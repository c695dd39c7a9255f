//===- GlueWriter.h - The descriptor tables and model.h --------*- C++ -*-===//
//
// Writes the C source that ties a model's generated functions to the runtime:
// one `cnnc_model_descriptor` (runtime/include/cnnc/runtime/ModelDescriptor.h)
// listing tensors, parameters, derived buffers and steps, and, with
// --embed-weights, the weights file included as bytes. Also writes model.h:
// the runtime's public cnnc.h with the model's shapes in a preamble.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_GLUEWRITER_H
#define CNNC_TARGET_GLUEWRITER_H

#include "cnnc/Codegen/ModelPlan.h"

#include <cstdint>
#include <string>

namespace cnnc {

/// The glue C source. `embeddedWeights` is an absolute path of
/// `embeddedSize` bytes, or "".
std::string writeGlueSource(const plan::ModelPlan &plan, const std::string &target,
                            const std::string &embeddedWeights, uint64_t embeddedSize);

/// model.h: a preamble describing the model, then `apiHeader` (cnnc.h).
std::string writeModelHeader(const plan::ModelPlan &plan, const std::string &target,
                             const std::string &apiHeader);

} // namespace cnnc

#endif // CNNC_TARGET_GLUEWRITER_H
