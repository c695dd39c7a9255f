//===- Image.h - Reading images for classification -------------*- C++ -*-===//
//
// PGM / PPM (binary and ASCII, P5 P2 P6 P3, any maxval up to 65535) and PNG
// (8 or 16 bits, gray or color, through libpng; alpha is dropped); pixels are
// scaled to [0, 1] and stored C x H x W. readImage picks the reader by the
// file's first bytes.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_IMAGE_H
#define CNNC_RUNTIME_IMAGE_H

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc::rt {

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
