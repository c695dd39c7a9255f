//===- WorkDir.h - cnnc's temporary work directories ------------*- C++ -*-===//
//
// Code generation works in a flat directory `$TMPDIR/cnnc-PID-XXXXXX` that
// is removed when it ends, whether it succeeded or not. A run that is
// killed leaves its directory behind; every run removes the ones of
// processes that are gone (their PID is in the name), owned by this user.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_WORKDIR_H
#define CNNC_TARGET_WORKDIR_H

#include <string>
#include <vector>

namespace cnnc {

/// Makes a fresh work directory under `root` ($TMPDIR or /tmp when empty),
/// after removing stale ones there; its path, or "" and `error`.
std::string makeWorkDir(const std::string &root, std::string &error);

/// Removes the flat work directory `dir` (its files, then itself).
void removeWorkDir(const std::string &dir);

/// Removes the work directories under `root` whose process is gone.
void removeStaleWorkDirs(const std::string &root);

} // namespace cnnc

#endif // CNNC_TARGET_WORKDIR_H
