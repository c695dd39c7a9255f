//===- ObjectCache.h - Compiled functions reused across runs ---*- C++ -*-===//
//
// Most of `cnnc -o` is Halide compiling the plan's functions, and most
// functions recur: the same model compiled again, ResNet-101 after ResNet-50,
// a test compiling a network its neighbour compiled. The cache keeps each
// function's object under a SHA-256 of everything that determines its code:
// the compiler itself (the build IDs of the cnnc executable and of every
// shared library it runs with: Halide, LLVM), the target, and the function's
// signature (functionSignature: name, key, argument shapes). A changed
// compiler, Halide or target is a different key, so an entry is never stale;
// the key's full text is stored beside the object and compared on every
// lookup, so not even a hash collision serves a wrong one.
//
// Safe with several cnnc processes on one directory: an entry is written to
// a private temporary file and renamed into place (the object first, then
// its key), and a hit is hard-linked (or copied) into the caller's work
// directory before use, so pruning by another process cannot remove it from
// under a link. A cache that cannot be written only makes cnnc slower.
//
// Layout: <dir>/objects/<2 hex>/<64 hex>.o and .key. The directory is
// CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc;
// CNNC_CACHE=off (or `cnnc --no-cache`) disables it. Entries least recently
// used are removed when the objects exceed CNNC_CACHE_MAX_MB (default 2048).
// No MLIR, no Halide.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_OBJECTCACHE_H
#define CNNC_TARGET_OBJECTCACHE_H

#include <cstdint>
#include <string>
#include <utility>

namespace cnnc {

class ObjectCache {
public:
  /// The cache in `dir`; "" is a disabled cache (every lookup misses).
  explicit ObjectCache(std::string dir) : dir_(std::move(dir)) {}

  /// The cache the environment names (see above), or a disabled one.
  static ObjectCache fromEnvironment();

  bool enabled() const { return !dir_.empty(); }
  const std::string &directory() const { return dir_; }

  /// The full key of an object: the compiler's identity, the target and the
  /// function's signature, as text.
  static std::string keyText(const std::string &target, const std::string &signature);

  /// Puts the object stored under `key` at `path` (a hard link, or a copy
  /// across file systems); false on a miss.
  bool fetch(const std::string &key, const std::string &path) const;

  /// Stores the object at `path` under `key`; failures are ignored.
  void store(const std::string &key, const std::string &path) const;

  /// Removes the least recently used entries until the objects take at most
  /// `maxBytes` (from `CNNC_CACHE_MAX_MB` by default).
  void prune(uint64_t maxBytes) const;
  void prune() const;

  /// The object's file for `key` (whether or not it exists).
  std::string objectPath(const std::string &key) const;

private:
  std::string dir_;
};

/// What identifies the running compiler's code: the GNU build IDs of the
/// executable and of each loaded shared library (or, for one without a build
/// ID, its path, size and modification time), one per line.
std::string compilerIdentity();

/// The SHA-256 of `text` as 64 lowercase hex digits.
std::string sha256Hex(const std::string &text);

} // namespace cnnc

#endif // CNNC_TARGET_OBJECTCACHE_H
