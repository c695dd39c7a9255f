//===- ArtifactBuilder.h - From a model plan to model.so -------*- C++ -*-===//
//
// Produces what `cnnc -o` writes: the shared library (default), a relocatable
// object, a static library, model.h, or the Halide loop-nest dump. Work
// happens in a temporary directory; the requested files (model.so with its
// model.h) appear together (Publish.h) only when everything succeeded, so an
// error never overwrites an earlier artifact or leaves a mismatched pair.
//
// Steps: the plan's distinct functions are taken from the object cache
// (ObjectCache.h) or compiled by `jobs` processes (one object per function;
// Halide compiles single-threaded), the Halide runtime likewise, the glue (GlueWriter.h) is
// compiled with the C compiler, and everything is linked with the runtime library
// (libcnnc_model_runtime.a) by the system linker. The shared library exports
// only the cnnc_* functions.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_ARTIFACTBUILDER_H
#define CNNC_TARGET_ARTIFACTBUILDER_H

#include "cnnc/Codegen/ModelPlan.h"

#include <ostream>
#include <string>

namespace cnnc {

enum class ArtifactKind { SharedLibrary, Object, StaticLibrary, Header, Stmt };

struct ArtifactOptions {
  ArtifactKind kind = ArtifactKind::SharedLibrary;
  std::string output;       ///< the file to write
  std::string target;       ///< canonical Halide target
  std::string embedWeights; ///< safetensors file to bake in, or ""
  std::string resourceDir;  ///< holds include/ and lib/ of the runtime
  std::string cc = "cc", cxx = "c++";
  int jobs = 1;
  std::string cacheDir; ///< the object cache (ObjectCache.h), "" for none
  bool verbose = false; ///< print each step and its time on `log`
};

/// Builds the artifact; false with `error` set on failure.
bool buildArtifact(const plan::ModelPlan &plan, const ArtifactOptions &options, std::ostream &log,
                   std::string &error);

/// The directory that holds include/cnnc/runtime and lib/ next to the running
/// executable (bin/..), unless CNNC_RESOURCE_DIR says otherwise.
std::string defaultResourceDir();

} // namespace cnnc

#endif // CNNC_TARGET_ARTIFACTBUILDER_H
