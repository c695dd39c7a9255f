//===- Netpbm.cpp - Reading PGM and PPM images ----------------------------===//
#include "cnnc/runtime/Image.h"
#include "cnnc/runtime/Safetensors.h"

#include <cctype>

namespace cnnc::rt {

namespace {

/// Reads the next header integer, skipping whitespace and # comments.
bool nextInt(const std::vector<uint8_t> &b, size_t &pos, int64_t &value) {
  while (pos < b.size()) {
    if (b[pos] == '#') {
      while (pos < b.size() && b[pos] != '\n')
        ++pos;
    } else if (std::isspace(b[pos])) {
      ++pos;
    } else {
      break;
    }
  }
  if (pos >= b.size() || !std::isdigit(b[pos]))
    return false;
  value = 0;
  while (pos < b.size() && std::isdigit(b[pos])) {
    value = value * 10 + (b[pos++] - '0');
    if (value > (int64_t(1) << 30))
      return false;
  }
  return true;
}

} // namespace

bool readNetpbm(const std::string &path, Image &out, std::string &error) {
  std::vector<uint8_t> b;
  if (!readFile(path, b, error, kMaxNetpbmBytes))
    return false;
  auto bad = [&](const std::string &what) {
    error = "'" + path + "' is not a valid PGM/PPM image: " + what;
    return false;
  };
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '2' && b[1] != '3' && b[1] != '5' && b[1] != '6'))
    return bad("it does not start with P2, P3, P5 or P6");
  bool ascii = b[1] == '2' || b[1] == '3';
  out.channels = b[1] == '3' || b[1] == '6' ? 3 : 1;
  size_t pos = 2;
  int64_t maxval;
  if (!nextInt(b, pos, out.width) || !nextInt(b, pos, out.height) || !nextInt(b, pos, maxval))
    return bad("malformed header");
  if (out.width <= 0 || out.height <= 0 || maxval <= 0 || maxval > 65535 ||
      out.width * out.height > kMaxImagePixels)
    return bad("size or maxval out of range");
  int64_t count = out.width * out.height * out.channels;
  // The pixels must be in the file before room is made for them: binary
  // samples take 1 or 2 bytes each, ASCII ones a digit and a separator.
  int bytes = maxval > 255 ? 2 : 1;
  uint64_t rest = b.size() - std::min(b.size(), pos + (ascii ? 0 : 1));
  if (rest < static_cast<uint64_t>(ascii ? 2 * count - 1 : count * bytes))
    return bad("truncated pixel data");
  std::vector<float> interleaved(count);
  if (ascii) {
    for (int64_t i = 0; i < count; ++i) {
      int64_t v;
      if (!nextInt(b, pos, v) || v > maxval)
        return bad("truncated or out-of-range pixel data");
      interleaved[i] = static_cast<float>(v) / maxval;
    }
  } else {
    ++pos; // the single whitespace after maxval
    for (int64_t i = 0; i < count; ++i) {
      int64_t v = bytes == 1 ? b[pos + i] : (b[pos + 2 * i] << 8 | b[pos + 2 * i + 1]);
      interleaved[i] = static_cast<float>(std::min(v, maxval)) / maxval;
    }
  }
  out.pixels.resize(count);
  int64_t plane = out.width * out.height;
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < out.channels; ++c)
      out.pixels[c * plane + p] = interleaved[p * out.channels + c];
  return true;
}

} // namespace cnnc::rt
