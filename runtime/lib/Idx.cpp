//===- Idx.cpp - Reading IDX files ----------------------------------------===//
#include "cnnc/runtime/Idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace cnnc::rt {

namespace {

size_t typeSize(uint8_t type) {
  switch (type) {
  case 0x08: // unsigned byte
  case 0x09: // signed byte
    return 1;
  case 0x0B: // short
    return 2;
  case 0x0C: // int
  case 0x0D: // float
    return 4;
  case 0x0E: // double
    return 8;
  default:
    return 0;
  }
}

uint64_t bigEndian(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = v << 8 | p[i];
  return v;
}

float decode(const uint8_t *p, uint8_t type) {
  switch (type) {
  case 0x08:
    return static_cast<float>(p[0]);
  case 0x09:
    return static_cast<float>(static_cast<int8_t>(p[0]));
  case 0x0B:
    return static_cast<float>(static_cast<int16_t>(bigEndian(p, 2)));
  case 0x0C:
    return static_cast<float>(static_cast<int32_t>(bigEndian(p, 4)));
  case 0x0D: {
    uint32_t bits = static_cast<uint32_t>(bigEndian(p, 4));
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  default: {
    uint64_t bits = bigEndian(p, 8);
    double d;
    std::memcpy(&d, &bits, 8);
    return static_cast<float>(d);
  }
  }
}

} // namespace

bool readIdx(const std::string &path, IdxArray &out, std::string &error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open '" + path + "'";
    return false;
  }
  // Read as far as the header says and no further: a small compressed file
  // can expand without bound (a gzip bomb), so memory grows only with data
  // that the dimensions promise and that actually arrives.
  std::vector<uint8_t> bytes;
  bool readError = false;
  auto read = [&](uint64_t count) {
    uint8_t chunk[1 << 16];
    while (count > 0 && !readError) {
      int got = gzread(f, chunk, static_cast<unsigned>(std::min<uint64_t>(count, sizeof chunk)));
      if (got < 0)
        readError = true;
      if (got <= 0)
        break;
      bytes.insert(bytes.end(), chunk, chunk + got);
      count -= static_cast<uint64_t>(got);
    }
  };
  auto bad = [&](const std::string &what) {
    error = "'" + path + "' is not a valid IDX file: " + what;
    if (f)
      gzclose(f);
    return false;
  };
  auto failedRead = [&] {
    int errnum = 0;
    error = "cannot read '" + path + "': " + gzerror(f, &errnum);
    gzclose(f);
    return false;
  };
  read(4);
  if (readError)
    return failedRead();
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    return bad("the magic number does not start with two zero bytes");
  uint8_t type = bytes[2];
  size_t elementSize = typeSize(type);
  if (!elementSize)
    return bad("unknown element type 0x" + std::to_string(type));
  size_t rank = bytes[3];
  read(4 * rank);
  if (readError)
    return failedRead();
  if (rank == 0 || bytes.size() < 4 + 4 * rank)
    return bad("truncated dimensions");
  out.dims.clear();
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    uint64_t dim = bigEndian(&bytes[4 + 4 * d], 4);
    if (dim && count > std::numeric_limits<uint32_t>::max() / dim)
      return bad("too many elements");
    count *= dim;
    out.dims.push_back(static_cast<int64_t>(dim));
  }
  size_t offset = 4 + 4 * rank;
  read(count * elementSize);
  if (readError)
    return failedRead();
  gzclose(f);
  f = nullptr;
  if (bytes.size() - offset < count * elementSize)
    return bad("the dimensions promise " + std::to_string(count * elementSize) +
               " bytes of data, the file has " + std::to_string(bytes.size() - offset));
  out.values.resize(count);
  for (uint64_t i = 0; i < count; ++i)
    out.values[i] = decode(&bytes[offset + i * elementSize], type);
  return true;
}

} // namespace cnnc::rt
