//===- HalideTiming.h - What the Halide benchmarks share --------*- C++ -*-===//
//
// Random inputs and the timing loop of the benchmarks that JIT-compile
// cnnc's Halide code (bench/adjoints, bench/kernels).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_BENCH_HALIDETIMING_H
#define CNNC_BENCH_HALIDETIMING_H

#include <Halide.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <utility>
#include <vector>

namespace cnnc::bench {

/// Normal random values, reproducible from `seed`.
inline void fill(Halide::Buffer<float> &b, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  b.for_each_value([&](float &v) { v = normal(rng); });
}

/// Best and median seconds of `fn` over `runs` calls after one warm-up.
inline std::pair<double, double> timeIt(const std::function<void()> &fn, int runs) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

} // namespace cnnc::bench

#endif // CNNC_BENCH_HALIDETIMING_H
