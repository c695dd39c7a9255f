//===- Png.cpp - Reading PNG images through libpng ------------------------===//
#include "cnnc/runtime/Image.h"

#include <png.h>

#include <cstdio>
#include <cstring>

namespace cnnc::rt {

bool readPng(const std::string &path, Image &out, std::string &error) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  auto bad = [&](const char *what) {
    error = "'" + path + "' is not a readable PNG image: " + what;
    png_image_free(&image);
    return false;
  };
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    return bad(image.message);
  bool color = image.format & PNG_FORMAT_FLAG_COLOR;
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (image.width == 0 || image.height == 0 ||
      static_cast<uint64_t>(image.width) * image.height > (uint64_t(1) << 28))
    return bad("size out of range");
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr))
    return bad(image.message);
  out.channels = color ? 3 : 1;
  out.height = image.height;
  out.width = image.width;
  int64_t plane = out.width * out.height;
  out.pixels.resize(plane * out.channels);
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < out.channels; ++c)
      out.pixels[c * plane + p] = pixels[p * out.channels + c] / 255.0f;
  return true;
}

bool readImage(const std::string &path, Image &out, std::string &error) {
  unsigned char signature[8] = {0};
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    size_t got = std::fread(signature, 1, sizeof signature, f);
    std::fclose(f);
    if (got == sizeof signature && png_sig_cmp(signature, 0, sizeof signature) == 0)
      return readPng(path, out, error);
  }
  return readNetpbm(path, out, error);
}

} // namespace cnnc::rt
