//===- LayerArithmetic.h - Every shape, size and cost formula --*- C++ -*-===//
//
// The one place where cnnc's layer arithmetic lives: output sizes of sliding
// windows (floor and ceil mode, dilation, asymmetric padding), `same`
// padding, receptive fields, parameter and multiply-accumulate counts. The
// op verifiers, shape inference, the reports, the fix-it suggestions in
// diagnostics and (later) the lowering all call these functions, so a formula
// is never written twice. No MLIR here: it is unit-tested on its own.
//
// Conventions (docs/reports.md): along one axis, input size n, kernel k,
// dilation d, stride s, padding pb before and pe after:
//   k_eff = d (k - 1) + 1
//   n_out = floor((n + pb + pe - k_eff) / s) + 1     (ceil in ceil mode, where
//           the last window must also start inside the input or left padding)
//   j_out = j_in s,  r_out = r_in + (k_eff - 1) j_in,
//   start_out = start_in + ((k_eff - 1) / 2 - pb) j_in
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_ARITHMETIC_LAYERARITHMETIC_H
#define CNNC_ARITHMETIC_LAYERARITHMETIC_H

#include <cstdint>
#include <optional>
#include <utility>

namespace cnnc {

/// A sliding window along one spatial axis.
struct Window {
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padBegin = 0;
  int64_t padEnd = 0;
  int64_t dilation = 1;
  bool ceilMode = false;
};

/// d (k - 1) + 1.
int64_t effectiveKernel(int64_t kernel, int64_t dilation);

/// The output size of `w` over an input of `n`, or std::nullopt when the
/// window does not fit in the padded input (n + pb + pe < k_eff).
std::optional<int64_t> windowOutputSize(int64_t n, const Window &w);

/// Padding (before, after) that makes n_out = ceil(n / s): the total is
/// max((ceil(n / s) - 1) s + k_eff - n, 0), the odd unit going after (the
/// convention of TensorFlow and of PyTorch's padding='same').
std::pair<int64_t, int64_t> samePadding(int64_t n, int64_t kernel, int64_t stride,
                                        int64_t dilation);

/// A symmetric padding p in [0, k_eff] for which the window gives `target`
/// outputs from `n` inputs (the smallest such p), or std::nullopt.
std::optional<int64_t> paddingForOutputSize(int64_t n, Window w, int64_t target);

/// The receptive field of one output unit along one axis: jump j between
/// neighbouring units, size r, and the centre `start` of the first unit, in
/// input pixels (the first input pixel is centred at 0.5).
struct ReceptiveField {
  int64_t jump = 1;
  int64_t size = 1;
  double start = 0.5;
};

/// The receptive field after applying `w` to units with field `in`;
/// nullopt when its jump or size passes 64 bits.
std::optional<ReceptiveField> receptiveFieldThrough(const ReceptiveField &in, const Window &w);

/// Multiply-accumulates of a convolution for batch 1.
int64_t convMacs(int64_t outChannels, int64_t outH, int64_t outW, int64_t inChannels,
                 int64_t groups, int64_t kh, int64_t kw);
/// Multiply-accumulates of a convolution with a connection table that has
/// `connections` (output channel, input channel) pairs in all.
int64_t tableConvMacs(int64_t connections, int64_t outH, int64_t outW, int64_t kh, int64_t kw);
/// Parameters of a convolution: weights (+ one bias per output channel).
int64_t convParams(int64_t outChannels, int64_t inChannels, int64_t groups, int64_t kh, int64_t kw,
                   bool bias);
int64_t tableConvParams(int64_t connections, int64_t outChannels, int64_t kh, int64_t kw,
                        bool bias);
/// Multiply-accumulates and parameters of a dense layer.
int64_t denseMacs(int64_t in, int64_t out);
int64_t denseParams(int64_t in, int64_t out, bool bias);
/// Learned parameters of batchnorm (scale and shift per channel); the running
/// mean and variance are buffers, counted apart.
int64_t batchNormParams(int64_t channels);
int64_t batchNormBuffers(int64_t channels);

/// torch.chunk(x, chunks, dim=1): pieces of ceil(C / chunks) channels, the
/// last one smaller, and fewer than `chunks` pieces where the channels run
/// out first. Piece `index` starts at chunkStart and holds chunkChannels
/// channels: 0 where torch.chunk gives no such piece.
int64_t chunkSize(int64_t channels, int64_t chunks);
int64_t chunkStart(int64_t channels, int64_t chunks, int64_t index);
int64_t chunkChannels(int64_t channels, int64_t chunks, int64_t index);
/// How many pieces torch.chunk gives: `chunks`, or fewer where they run out.
int64_t chunkPieces(int64_t channels, int64_t chunks);

/// ShuffleNet's channel shuffle: the C channels seen as a groups x
/// (C / groups) matrix, transposed (torchvision's view, transpose(1, 2),
/// view). Output channel c reads input channel shuffleSource(c); input
/// channel c lands in output channel shuffleTarget(c). Templates, so that
/// the generated code's expressions use the same formula.
template <typename T> T shuffleSource(T c, T channels, T groups) {
  return c % groups * (channels / groups) + c / groups;
}
template <typename T> T shuffleTarget(T c, T channels, T groups) {
  T perGroup = channels / groups;
  return c % perGroup * groups + c / perGroup;
}

/// Adaptive pooling of n input pixels to m outputs along one axis
/// (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d): output i reduces input
/// pixels [floor(i n / m), ceil((i + 1) n / m)), and input pixel x lies in
/// the windows of outputs [floor(x m / n), ceil((x + 1) m / n) - 1].
/// Templates, so that the generated code's expressions use the same formula.
template <typename T> T adaptiveStart(T i, T n, T m) { return i * n / m; }
template <typename T> T adaptiveEnd(T i, T n, T m) { return ((i + 1) * n + m - 1) / m; }
template <typename T> T adaptiveFirstOutput(T x, T n, T m) { return x * m / n; }
template <typename T> T adaptiveLastOutput(T x, T n, T m) { return ((x + 1) * m + n - 1) / n - 1; }
/// The largest window of adaptive pooling from n to m (its reduction
/// extent), and the most outputs whose windows share one input pixel.
int64_t adaptiveLargestWindow(int64_t n, int64_t m);
int64_t adaptiveMostCovering(int64_t n, int64_t m);
/// The largest step between the starts of neighbouring adaptive windows.
int64_t adaptiveLargestStep(int64_t n, int64_t m);
/// The sliding window that adaptive pooling from n to m is, when all its
/// windows have one size and all its steps one length (m divides n:
/// kernel = stride = n / m; 7 to 3: kernel 3, stride 2), else std::nullopt.
std::optional<Window> adaptiveRegularWindow(int64_t n, int64_t m);

} // namespace cnnc

#endif // CNNC_ARITHMETIC_LAYERARITHMETIC_H
