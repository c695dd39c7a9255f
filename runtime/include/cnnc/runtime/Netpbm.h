//===- Netpbm.h - Reading PGM and PPM images -------------------*- C++ -*-===//
//
// Binary and ASCII graymaps (P5, P2) and pixmaps (P6, P3) with any maxval up
// to 65535; pixels are scaled to [0, 1] and stored C x H x W.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_NETPBM_H
#define CNNC_RUNTIME_NETPBM_H

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc::rt {

struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> pixels; ///< C x H x W, in [0, 1]
};

bool readNetpbm(const std::string &path, Image &out, std::string &error);

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_NETPBM_H
