//===- Png.cpp - Reading PNG images through libpng ------------------------===//
#include "cnnc/runtime/Image.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>

namespace cnnc::rt {

namespace {

/// libpng reports errors by longjmp; the message is kept here.
void pngError(png_structp png, png_const_charp message) {
  auto *why = static_cast<std::string *>(png_get_error_ptr(png));
  *why = message;
  png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {}

/// Decodes into `out` through `pixels` and `rows`, which belong to the
/// caller: after a longjmp back here only objects outside this frame are
/// read, as setjmp requires.
bool decodePng(png_structp png, png_infop info, FILE *f, Image &out, std::vector<uint8_t> &pixels,
               std::vector<png_bytep> &rows, std::string &why) {
  if (setjmp(png_jmpbuf(png)) != 0)
    return false;
  png_init_io(png, f);
  png_set_user_limits(png, 1u << 24, 1u << 24);
  png_read_info(png, info);
  png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  int colorType = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  if (static_cast<uint64_t>(width) * height > static_cast<uint64_t>(kMaxImagePixels)) {
    why = "size out of range";
    return false;
  }
  // Palettes and gray below 8 bits to 8 bits, alpha (and tRNS) dropped,
  // 16-bit samples kept (big-endian, as stored).
  if (colorType == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (colorType & PNG_COLOR_MASK_ALPHA)
    png_set_strip_alpha(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  int sampleBytes = png_get_bit_depth(png, info) == 16 ? 2 : 1;
  size_t rowBytes = png_get_rowbytes(png, info);
  pixels.resize(rowBytes * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y)
    rows[y] = pixels.data() + y * rowBytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  out.channels = channels;
  out.height = height;
  out.width = width;
  int64_t plane = out.width * out.height;
  // Divided, not multiplied by a reciprocal: torchvision's to_tensor divides.
  float largest = sampleBytes == 2 ? 65535.0f : 255.0f;
  out.pixels.resize(plane * out.channels);
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < out.channels; ++c) {
      const uint8_t *v = &pixels[(p * out.channels + c) * sampleBytes];
      out.pixels[c * plane + p] =
          static_cast<float>(sampleBytes == 2 ? v[0] << 8 | v[1] : v[0]) / largest;
    }
  return true;
}

} // namespace

// The low-level interface, not png_image: the simplified one treats 16-bit
// files as linear light and converts them to 8-bit sRGB, where PIL and
// torchvision take the stored samples as they are.
bool readPng(const std::string &path, Image &out, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::string why;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &why, pngError, pngWarning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  bool ok = false;
  try {
    ok = png && info && decodePng(png, info, f, out, pixels, rows, why);
  } catch (const std::bad_alloc &) {
    why = "out of memory";
  }
  png_destroy_read_struct(png ? &png : nullptr, info ? &info : nullptr, nullptr);
  std::fclose(f);
  if (!ok)
    error = "'" + path + "' is not a readable PNG image: " + (why.empty() ? "out of memory" : why);
  return ok;
}

bool readImage(const std::string &path, Image &out, std::string &error) {
  unsigned char signature[8] = {0};
  size_t got = 0;
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    got = std::fread(signature, 1, sizeof signature, f);
    std::fclose(f);
  } else {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (got == sizeof signature && png_sig_cmp(signature, 0, sizeof signature) == 0)
    return readPng(path, out, error);
  // Anything else must look like a PGM/PPM before it is read whole.
  if (got >= 2 && signature[0] == 'P' && std::strchr("2356", signature[1]) && signature[1])
    return readNetpbm(path, out, error);
  error = "'" + path + "' is neither a PNG nor a PGM/PPM image (P2, P3, P5, P6)";
  return false;
}

} // namespace cnnc::rt
