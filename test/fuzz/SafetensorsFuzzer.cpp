//===- SafetensorsFuzzer.cpp - libFuzzer target for the weights reader ----===//
//
// Every byte string must parse or fail with a message: no crash, no read
// outside the input, no leak, no hang (headers are bounded).
//
//===----------------------------------------------------------------------===//
#include "cnnc/runtime/Safetensors.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A private copy, so that ASan sees reads past the end of the input.
  std::vector<uint8_t> bytes(data, data + size);
  cnnc::rt::SafetensorsFile file;
  std::string error;
  if (cnnc::rt::parseSafetensors(bytes.data(), bytes.size(), file, error)) {
    volatile uint8_t sum = 0;
    for (const auto &e : file.entries)
      for (size_t i = 0; i < e.bytes; ++i)
        sum ^= e.data[i];
  } else if (error.empty()) {
    __builtin_trap();
  }
  return 0;
}
