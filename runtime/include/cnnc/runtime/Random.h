//===- Random.h - The generator behind initialization and shuffling -*- C++ -*-===//
//
// SplitMix64: tiny, fast, and the same numbers on every platform, so a seed
// reproduces a model's initial weights anywhere. Streams are derived from a
// seed and a name (FNV-1a hash), so that adding a layer does not change the
// initial values of the others.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_RANDOM_H
#define CNNC_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>
#include <string>

namespace cnnc::rt {

class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  Random(uint64_t seed, const std::string &stream) : state(seed ^ hash(stream)) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1) with 24 random bits (every float32 step).
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

  /// Standard normal (Box-Muller on two uniforms).
  float normal() {
    float u1 = (static_cast<float>(next() >> 40) + 1.0f) * (1.0f / 16777217.0f); // (0, 1]
    float u2 = uniform();
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }

  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

  static uint64_t hash(const std::string &s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s)
      h = (h ^ c) * 0x100000001b3ull;
    return h;
  }

private:
  uint64_t state;
};

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_RANDOM_H
