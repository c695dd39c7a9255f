//===- Image.h - Reading images for classification -------------*- C++ -*-===//
//
// PGM / PPM (binary and ASCII, P5 P2 P6 P3, any maxval up to 65535) and PNG
// (1 to 16 bits, gray, color or palette, through libpng; alpha is dropped, no
// gamma is applied: a sample is its stored value over the largest, as PIL
// and torchvision read it); pixels are scaled to [0, 1] and stored
// C x H x W. readImage picks the reader by the file's first bytes. Limits:
// kMaxImagePixels pixels, and a PGM/PPM file of at most kMaxNetpbmBytes;
// a header that promises more pixels than the file holds is refused before
// anything is allocated for them.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_IMAGE_H
#define CNNC_RUNTIME_IMAGE_H

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc::rt {

constexpr int64_t kMaxImagePixels = int64_t(1) << 28;
constexpr uint64_t kMaxNetpbmBytes = uint64_t(4) << 30;

struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> pixels; ///< C x H x W, in [0, 1]
};

bool readNetpbm(const std::string &path, Image &out, std::string &error);
bool readPng(const std::string &path, Image &out, std::string &error);

/// PNG when the file starts with the PNG signature, PGM / PPM otherwise.
bool readImage(const std::string &path, Image &out, std::string &error);

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_IMAGE_H
