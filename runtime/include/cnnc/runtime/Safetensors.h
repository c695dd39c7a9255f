//===- Safetensors.h - Reading and writing safetensors files ---*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length, a JSON
// header mapping tensor names to {dtype, shape, data_offsets}, then the data.
// The reader trusts nothing: the header length, each entry's fields, offsets
// inside the data, sizes matching dtype x shape (without overflow), no two
// tensors overlapping, and no key twice in one object (JSON parsers would
// keep one of them silently). The writer is atomic (temporary file, fsync,
// rename), so a failure or a kill never leaves a half-written file behind.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_SAFETENSORS_H
#define CNNC_RUNTIME_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cnnc::rt {

struct SafetensorsEntry {
  std::string name;
  std::string dtype; ///< "F32", "I64", ...
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t bytes = 0;
};

struct SafetensorsFile {
  std::vector<SafetensorsEntry> entries; ///< in header order
  std::map<std::string, std::string> metadata;
  const SafetensorsEntry *find(const std::string &name) const;
};

/// Bytes per element of a safetensors dtype, 0 when unknown.
size_t dtypeSize(const std::string &dtype);

/// Parses `size` bytes; entries point into `bytes`, which must outlive them.
bool parseSafetensors(const uint8_t *bytes, size_t size, SafetensorsFile &out, std::string &error);

struct TensorToWrite {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const void *data;
  size_t bytes;
};

/// The whole file as bytes.
std::vector<uint8_t> serializeSafetensors(const std::vector<TensorToWrite> &tensors,
                                          const std::map<std::string, std::string> &metadata);

/// Reads a whole file of at most `limit` bytes: a regular file larger than
/// that is refused before reading, a pipe or a device is read until its end
/// or until it passes the limit (so /dev/zero fails, bounded).
bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error,
              uint64_t limit);

/// Reads a safetensors file: a regular file whole (its size bounds it), a
/// pipe or a device only as far as its header declares (the length, at most
/// 100 MB of header, the data its offsets reach). parseSafetensors checks it.
bool readSafetensorsFile(const std::string &path, std::vector<uint8_t> &out, std::string &error);

/// Whether writeFileAtomically may replace `path`: absent or a regular file
/// (false and why for a device, a pipe, a directory).
bool checkReplaceable(const std::string &path, std::string &error);

/// Writes `bytes` to `path` atomically: `path`.tmp-PID, fsync, rename
/// (checkReplaceable first).
bool writeFileAtomically(const std::string &path, const std::vector<uint8_t> &bytes,
                         std::string &error);

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_SAFETENSORS_H
