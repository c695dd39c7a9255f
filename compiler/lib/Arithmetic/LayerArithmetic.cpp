//===- LayerArithmetic.cpp - Every shape, size and cost formula -----------===//
#include "cnnc/Arithmetic/LayerArithmetic.h"

#include <algorithm>

namespace cnnc {

int64_t effectiveKernel(int64_t kernel, int64_t dilation) { return dilation * (kernel - 1) + 1; }

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::optional<int64_t> windowOutputSize(int64_t n, const Window &w) {
  int64_t span = n + w.padBegin + w.padEnd - effectiveKernel(w.kernel, w.dilation);
  if (span < 0 || w.stride < 1)
    return std::nullopt;
  if (!w.ceilMode)
    return span / w.stride + 1;
  int64_t out = ceilDiv(span, w.stride) + 1;
  // The last window must start inside the input or the left padding.
  if ((out - 1) * w.stride >= n + w.padBegin)
    --out;
  return out;
}

std::pair<int64_t, int64_t> samePadding(int64_t n, int64_t kernel, int64_t stride,
                                        int64_t dilation) {
  int64_t out = ceilDiv(n, stride);
  int64_t total = std::max<int64_t>((out - 1) * stride + effectiveKernel(kernel, dilation) - n, 0);
  return {total / 2, total - total / 2};
}

std::optional<int64_t> paddingForOutputSize(int64_t n, Window w, int64_t target) {
  // The output size does not decrease as the padding grows: the smallest
  // padding in [0, kernel] that reaches `target` is found by bisection, in
  // time logarithmic in the kernel (a loop over paddings took hours for
  // `kernel: 1e12`).
  int64_t keff = effectiveKernel(w.kernel, w.dilation);
  auto outputAt = [&](int64_t p) {
    w.padBegin = w.padEnd = p;
    return windowOutputSize(n, w);
  };
  int64_t low = 0, high = keff + 1; // the answer is in [low, high), high: none
  while (low < high) {
    int64_t mid = low + (high - low) / 2;
    std::optional<int64_t> out = outputAt(mid);
    if (out && *out >= target)
      high = mid;
    else
      low = mid + 1;
  }
  std::optional<int64_t> out = low <= keff ? outputAt(low) : std::nullopt;
  if (out && *out == target)
    return low;
  return std::nullopt;
}

std::optional<ReceptiveField> receptiveFieldThrough(const ReceptiveField &in, const Window &w) {
  int64_t keff = effectiveKernel(w.kernel, w.dilation);
  ReceptiveField out, grown;
  // Strides multiply along a chain: checked (2^31 - 1 three times is past
  // 64 bits, although every layer is within the limits).
  if (__builtin_mul_overflow(in.jump, w.stride, &out.jump) ||
      __builtin_mul_overflow(keff - 1, in.jump, &grown.size) ||
      __builtin_add_overflow(in.size, grown.size, &out.size))
    return std::nullopt;
  out.start = in.start +
              ((keff - 1) / 2.0 - static_cast<double>(w.padBegin)) * static_cast<double>(in.jump);
  return out;
}

int64_t convMacs(int64_t outChannels, int64_t outH, int64_t outW, int64_t inChannels,
                 int64_t groups, int64_t kh, int64_t kw) {
  return outH * outW * outChannels * (inChannels / groups) * kh * kw;
}

// Written so that no huge `chunks` or `index` overflows: the size is at most
// the channels, and a start is only computed for index < chunks, where it is
// below channels + chunks.
int64_t chunkSize(int64_t channels, int64_t chunks) {
  return channels / chunks + (channels % chunks != 0);
}

int64_t chunkStart(int64_t channels, int64_t chunks, int64_t index) {
  return index < chunks ? index * chunkSize(channels, chunks) : channels;
}

int64_t chunkChannels(int64_t channels, int64_t chunks, int64_t index) {
  int64_t left = channels - chunkStart(channels, chunks, index);
  return std::max<int64_t>(0, std::min(left, chunkSize(channels, chunks)));
}

int64_t chunkPieces(int64_t channels, int64_t chunks) {
  int64_t size = chunkSize(channels, chunks);
  return channels / size + (channels % size != 0);
}

int64_t adaptiveLargestWindow(int64_t n, int64_t m) {
  int64_t largest = 0;
  for (int64_t i = 0; i < m; ++i)
    largest = std::max(largest, adaptiveEnd(i, n, m) - adaptiveStart(i, n, m));
  return largest;
}

int64_t adaptiveMostCovering(int64_t n, int64_t m) {
  int64_t most = 0;
  for (int64_t x = 0; x < n; ++x)
    most = std::max(most, adaptiveLastOutput(x, n, m) - adaptiveFirstOutput(x, n, m) + 1);
  return most;
}

int64_t adaptiveLargestStep(int64_t n, int64_t m) {
  int64_t largest = 0;
  for (int64_t i = 1; i < m; ++i)
    largest = std::max(largest, adaptiveStart(i, n, m) - adaptiveStart(i - 1, n, m));
  return m == 1 ? n : largest;
}

std::optional<Window> adaptiveRegularWindow(int64_t n, int64_t m) {
  if (m <= 0)
    return std::nullopt;
  Window w;
  w.kernel = adaptiveEnd<int64_t>(0, n, m);
  w.stride = m == 1 ? w.kernel : adaptiveStart<int64_t>(1, n, m);
  for (int64_t i = 1; i < m; ++i)
    if (adaptiveEnd(i, n, m) - adaptiveStart(i, n, m) != w.kernel ||
        adaptiveStart(i, n, m) - adaptiveStart(i - 1, n, m) != w.stride)
      return std::nullopt;
  return w;
}

int64_t tableConvMacs(int64_t connections, int64_t outH, int64_t outW, int64_t kh, int64_t kw) {
  return outH * outW * connections * kh * kw;
}

int64_t convParams(int64_t outChannels, int64_t inChannels, int64_t groups, int64_t kh, int64_t kw,
                   bool bias) {
  return outChannels * (inChannels / groups) * kh * kw + (bias ? outChannels : 0);
}

int64_t tableConvParams(int64_t connections, int64_t outChannels, int64_t kh, int64_t kw,
                        bool bias) {
  return connections * kh * kw + (bias ? outChannels : 0);
}

int64_t denseMacs(int64_t in, int64_t out) { return in * out; }

int64_t denseParams(int64_t in, int64_t out, bool bias) { return in * out + (bias ? out : 0); }

int64_t batchNormParams(int64_t channels) { return 2 * channels; }
int64_t batchNormBuffers(int64_t channels) { return 2 * channels; }

} // namespace cnnc
