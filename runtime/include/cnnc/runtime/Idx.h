//===- Idx.h - Reading IDX files (MNIST, Fashion-MNIST) --------*- C++ -*-===//
//
// The IDX format: two zero bytes, a type byte, the number of dimensions, the
// dimensions as big-endian 32-bit integers, then big-endian values. Files may
// be gzip-compressed (as Debian's dataset-fashion-mnist ships them); zlib
// reads both forms. Sizes are checked against the data actually present,
// and only the data the dimensions promise is read (at most 2^32 - 1
// values): whatever follows it, however large once decompressed, is not.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_IDX_H
#define CNNC_RUNTIME_IDX_H

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc::rt {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<float> values; ///< converted to float, in file order
};

bool readIdx(const std::string &path, IdxArray &out, std::string &error);

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_IDX_H
