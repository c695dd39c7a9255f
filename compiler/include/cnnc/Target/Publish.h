//===- Publish.h - Putting generated files in place together ---*- C++ -*-===//
//
// What `cnnc -o` promises about its outputs: the files of one artifact
// (model.so and model.h) appear together or not at all, and a failure leaves
// every earlier file as it was. No MLIR, no Halide.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_PUBLISH_H
#define CNNC_TARGET_PUBLISH_H

#include <string>
#include <utility>
#include <vector>

namespace cnnc {

/// Moves each file `from` to its destination `to` as one change. Every file
/// is first staged beside its destination (copied when it lives on another
/// file system: the step that fails for want of space, a missing directory
/// or a destination that is not a regular file); existing destinations are
/// kept as hard links until all renames have succeeded, and put back if one
/// fails. False with `error` naming the destination otherwise; no temporary
/// file is left behind either way. The sources are temporary files of the
/// caller's, consumed either way.
bool publishFiles(const std::vector<std::pair<std::string, std::string>> &files,
                  std::string &error);

} // namespace cnnc

#endif // CNNC_TARGET_PUBLISH_H
