//===- DataReadersFuzzer.cpp - libFuzzer target for the data readers -----===//
//
// The IDX reader (plain and gzip-compressed), the PGM/PPM reader and the PNG
// reader (through readImage, which picks by the first bytes) on every byte
// string: each must read or fail with a message, with no crash, no read
// outside its buffers, no leak and no unbounded allocation (the limits of
// Idx.h and Image.h; libFuzzer's -rss_limit_mb catches a reader that
// allocates for what a header promises instead of what the file holds).
// The first byte chooses the reader; the rest is the file.
//
//===----------------------------------------------------------------------===//
#include "cnnc/runtime/Idx.h"
#include "cnnc/runtime/Image.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <zlib.h>

namespace {

/// The file the readers read: one per fuzzing process, removed at exit.
const std::string &inputPath() {
  static const std::string path = [] {
    std::atexit([] { std::remove(inputPath().c_str()); });
    return "/tmp/cnnc-data-fuzz-" + std::to_string(::getpid());
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int reader = data[0] % 3;
  const std::string &path = inputPath();
  if (reader == 1) { // IDX, gzip-compressed: the bytes are what decompresses
    gzFile g = gzopen(path.c_str(), "wb1");
    if (!g)
      return 0;
    if (size > 1)
      gzwrite(g, data + 1, static_cast<unsigned>(size - 1));
    gzclose(g);
  } else if (FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
  } else {
    return 0;
  }
  std::string error;
  bool ok;
  if (reader <= 1) {
    cnnc::rt::IdxArray a;
    ok = cnnc::rt::readIdx(path, a, error);
    if (ok) {
      size_t count = 1;
      for (int64_t d : a.dims)
        count *= static_cast<size_t>(d);
      if (count != a.values.size())
        __builtin_trap(); // the values must be what the dimensions say
    }
  } else {
    cnnc::rt::Image img;
    ok = cnnc::rt::readImage(path, img, error);
    if (ok && static_cast<int64_t>(img.pixels.size()) != img.channels * img.height * img.width)
      __builtin_trap();
    for (float v : img.pixels)
      if (!(v >= 0 && v <= 1))
        __builtin_trap(); // samples are scaled to [0, 1]
  }
  if (!ok && error.empty())
    __builtin_trap();
  return 0;
}
