//===- LayerArithmeticTest.cpp - Shape, field and cost formulas -----------===//
#include "cnnc/Arithmetic/LayerArithmetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

using namespace cnnc;

namespace {

Window win(int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d = 1, bool ceil = false) {
  Window w;
  w.kernel = k, w.stride = s, w.padBegin = pb, w.padEnd = pe, w.dilation = d, w.ceilMode = ceil;
  return w;
}

TEST(LayerArithmetic, BriefWorkedExample) {
  // 5-wide input, conv k=3 p=1 s=2: n=3, r=3, j=2, start=0.5.
  Window w = win(3, 2, 1, 1);
  EXPECT_EQ(windowOutputSize(5, w), 3);
  ReceptiveField rf = *receptiveFieldThrough(ReceptiveField{}, w);
  EXPECT_EQ(rf.size, 3);
  EXPECT_EQ(rf.jump, 2);
  EXPECT_DOUBLE_EQ(rf.start, 0.5);
}

TEST(LayerArithmetic, FloorAndCeilMode) {
  EXPECT_EQ(windowOutputSize(56, win(3, 2, 0, 0)), 27);
  EXPECT_EQ(windowOutputSize(112, win(3, 2, 0, 0, 1, true)), 56);
  EXPECT_EQ(windowOutputSize(6, win(3, 2, 0, 0, 1, false)), 2);
  EXPECT_EQ(windowOutputSize(6, win(3, 2, 0, 0, 1, true)), 3);
  // The last ceil-mode window must start inside the input or left padding:
  // 5 inputs, k=2, s=2, pad 1: ceil((5+2-2)/2)+1 = 4, but window 4 would start
  // at 6 >= 5 + 1, so 3 (PyTorch gives 3).
  EXPECT_EQ(windowOutputSize(5, win(2, 2, 1, 1, 1, true)), 3);
}

TEST(LayerArithmetic, Dilation) {
  EXPECT_EQ(effectiveKernel(3, 2), 5);
  EXPECT_EQ(windowOutputSize(10, win(3, 1, 0, 0, 2)), 6);
  ReceptiveField rf = *receptiveFieldThrough(ReceptiveField{}, win(3, 1, 0, 0, 2));
  EXPECT_EQ(rf.size, 5);
  EXPECT_DOUBLE_EQ(rf.start, 2.5);
}

TEST(LayerArithmetic, AsymmetricPadding) {
  EXPECT_EQ(windowOutputSize(8, win(3, 1, 0, 2)), 8);
  ReceptiveField rf = *receptiveFieldThrough(ReceptiveField{}, win(3, 1, 0, 2));
  EXPECT_DOUBLE_EQ(rf.start, 1.5); // only the leading padding moves the centre
}

TEST(LayerArithmetic, SamePaddingWithEvenKernels) {
  // k=4, s=1: 3 pixels of padding in all, the odd one after.
  EXPECT_EQ(samePadding(10, 4, 1, 1), (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(samePadding(10, 3, 1, 1), (std::pair<int64_t, int64_t>{1, 1}));
  // Stride 2: output ceil(10/2) = 5.
  auto [b, e] = samePadding(10, 3, 2, 1);
  EXPECT_EQ(windowOutputSize(10, win(3, 2, b, e)), 5);
  EXPECT_EQ(samePadding(10, 2, 2, 1), (std::pair<int64_t, int64_t>{0, 0}));
}

TEST(LayerArithmetic, WindowLargerThanInput) {
  EXPECT_FALSE(windowOutputSize(2, win(5, 1, 1, 1)).has_value());
  EXPECT_TRUE(windowOutputSize(3, win(5, 1, 1, 1)).has_value());
}

TEST(LayerArithmetic, PaddingForOutputSize) {
  EXPECT_EQ(paddingForOutputSize(56, win(3, 2, 0, 0), 28), 1);
  EXPECT_FALSE(paddingForOutputSize(56, win(3, 2, 0, 0), 56).has_value());
  // The bisection finds what a scan of every padding finds: the smallest
  // one that gives the target, floor and ceil mode, dilated or not.
  for (int64_t n = 1; n <= 12; ++n)
    for (int64_t k = 1; k <= 5; ++k)
      for (int64_t s = 1; s <= 3; ++s)
        for (int64_t d = 1; d <= 2; ++d)
          for (bool ceil : {false, true})
            for (int64_t target = 1; target <= 14; ++target) {
              Window w = win(k, s, 0, 0);
              w.dilation = d;
              w.ceilMode = ceil;
              std::optional<int64_t> scanned;
              for (int64_t p = 0; p <= effectiveKernel(k, d) && !scanned; ++p) {
                Window t = w;
                t.padBegin = t.padEnd = p;
                if (windowOutputSize(n, t) == target)
                  scanned = p;
              }
              EXPECT_EQ(paddingForOutputSize(n, w, target), scanned)
                  << "n " << n << " k " << k << " s " << s << " d " << d << " ceil " << ceil
                  << " target " << target;
            }
  // A kernel of 10^12 (the scan took hours): 3 + 2 * 5 * 10^11 - 10^12 + 1 = 4.
  EXPECT_EQ(paddingForOutputSize(3, win(1000000000000, 1, 0, 0), 4), 500000000000);
}

TEST(LayerArithmetic, Counts) {
  // Fashion-MNIST conv1: 16 filters 5x5 on 1x28x28, padding 2.
  EXPECT_EQ(convMacs(16, 28, 28, 1, 1, 5, 5), 313600);
  EXPECT_EQ(convParams(16, 1, 1, 5, 5, true), 416);
  EXPECT_EQ(convParams(256, 96, 2, 5, 5, true), 256 * 48 * 25 + 256);
  EXPECT_EQ(tableConvParams(60, 16, 5, 5, true), 1516); // LeNet-5 C3
  EXPECT_EQ(denseParams(1568, 10, true), 15690);
  EXPECT_EQ(denseMacs(1568, 10), 15680);
  EXPECT_EQ(batchNormParams(16), 32);
}

TEST(LayerArithmetic, ChunksAsTorchChunk) {
  // torch.chunk: ceil(C / chunks) channels per piece, the last one smaller.
  EXPECT_EQ(chunkChannels(6, 2, 0), 3);
  EXPECT_EQ(chunkStart(6, 2, 1), 3);
  EXPECT_EQ(chunkChannels(7, 3, 0), 3);
  EXPECT_EQ(chunkStart(7, 3, 2), 6);
  EXPECT_EQ(chunkChannels(7, 3, 2), 1);
  // 5 channels in 4 chunks: torch.chunk gives 3 pieces of 2, 2 and 1.
  EXPECT_EQ(chunkSize(5, 4), 2);
  EXPECT_EQ(chunkChannels(5, 4, 2), 1);
  EXPECT_EQ(chunkChannels(5, 4, 3), 0);
  EXPECT_EQ(chunkPieces(5, 4), 3);
  EXPECT_EQ(chunkPieces(6, 2), 2);
  // More chunks than channels: one channel each, then none.
  EXPECT_EQ(chunkChannels(3, 8, 2), 1);
  EXPECT_EQ(chunkChannels(3, 8, 3), 0);
  // Huge arguments do not overflow.
  const int64_t huge = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(chunkChannels(6, huge, 5), 1);
  EXPECT_EQ(chunkChannels(6, huge, huge - 1), 0);
  EXPECT_EQ(chunkChannels(huge, 2, 1), huge / 2);
  EXPECT_EQ(chunkChannels(6, 2, huge), 0);
}

TEST(LayerArithmetic, ChannelShuffleIsTorchvisionsAndInvertible) {
  // 6 channels, 2 groups: output 0..5 reads input 0, 3, 1, 4, 2, 5.
  std::vector<int64_t> sources;
  for (int64_t c = 0; c < 6; ++c)
    sources.push_back(shuffleSource<int64_t>(c, 6, 2));
  EXPECT_EQ(sources, (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  for (int64_t channels : {4, 12, 116, 232})
    for (int64_t groups : {1, 2, 4})
      for (int64_t c = 0; c < channels; ++c) {
        int64_t s = shuffleSource<int64_t>(c, channels, groups);
        ASSERT_GE(s, 0);
        ASSERT_LT(s, channels);
        ASSERT_EQ(shuffleTarget<int64_t>(s, channels, groups), c);
      }
}

TEST(LayerArithmetic, AdaptiveWindowsAsPyTorchDefinesThem) {
  // 9 to 7 (VGG's features at 288 x 288): starts 0 1 2 3 5 6 7, ends 2 3 4
  // 6 7 8 9.
  std::vector<int64_t> starts, ends;
  for (int64_t i = 0; i < 7; ++i) {
    starts.push_back(adaptiveStart<int64_t>(i, 9, 7));
    ends.push_back(adaptiveEnd<int64_t>(i, 9, 7));
  }
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 1, 2, 3, 5, 6, 7}));
  EXPECT_EQ(ends, (std::vector<int64_t>{2, 3, 4, 6, 7, 8, 9}));
  EXPECT_EQ(adaptiveLargestWindow(9, 7), 3);
  EXPECT_EQ(adaptiveLargestStep(9, 7), 2);
  EXPECT_EQ(adaptiveLargestWindow(14, 7), 2);
  EXPECT_EQ(adaptiveLargestStep(1, 1), 1);
  ASSERT_TRUE(adaptiveRegularWindow(14, 7));
  EXPECT_EQ(adaptiveRegularWindow(14, 7)->kernel, 2);
  EXPECT_EQ(adaptiveRegularWindow(14, 7)->stride, 2);
  // 7 to 3: [0, 3), [2, 5), [4, 7), a window of 3 at steps of 2.
  ASSERT_TRUE(adaptiveRegularWindow(7, 3));
  EXPECT_EQ(adaptiveRegularWindow(7, 3)->kernel, 3);
  EXPECT_EQ(adaptiveRegularWindow(7, 3)->stride, 2);
  EXPECT_EQ(adaptiveRegularWindow(5, 1)->kernel, 5);
  EXPECT_FALSE(adaptiveRegularWindow(9, 7));
  EXPECT_FALSE(adaptiveRegularWindow(3, 6)); // steps of 0 and 1
  // The covering outputs of each pixel are exactly the windows that hold
  // it, and the reduction extents bound every window and every cover, for
  // shrinking and growing sizes.
  for (int64_t n = 1; n <= 20; ++n)
    for (int64_t m = 1; m <= 24; ++m) {
      int64_t largest = 0, most = 0;
      for (int64_t i = 0; i < m; ++i) {
        ASSERT_LT(adaptiveStart<int64_t>(i, n, m), adaptiveEnd<int64_t>(i, n, m));
        largest =
            std::max(largest, adaptiveEnd<int64_t>(i, n, m) - adaptiveStart<int64_t>(i, n, m));
      }
      EXPECT_EQ(adaptiveEnd<int64_t>(m - 1, n, m), n);
      for (int64_t x = 0; x < n; ++x) {
        std::vector<int64_t> holding;
        for (int64_t i = 0; i < m; ++i)
          if (adaptiveStart<int64_t>(i, n, m) <= x && x < adaptiveEnd<int64_t>(i, n, m))
            holding.push_back(i);
        ASSERT_FALSE(holding.empty());
        ASSERT_EQ(holding.front(), adaptiveFirstOutput<int64_t>(x, n, m)) << n << " " << m;
        ASSERT_EQ(holding.back(), adaptiveLastOutput<int64_t>(x, n, m)) << n << " " << m;
        ASSERT_EQ(static_cast<int64_t>(holding.size()), holding.back() - holding.front() + 1);
        most = std::max(most, static_cast<int64_t>(holding.size()));
      }
      EXPECT_EQ(adaptiveLargestWindow(n, m), largest);
      EXPECT_EQ(adaptiveMostCovering(n, m), most);
      // Regular: one window size and one step, which a sliding window of
      // that kernel and stride reproduces.
      bool regular = true;
      for (int64_t i = 1; i < m; ++i)
        regular = regular &&
                  adaptiveEnd<int64_t>(i, n, m) - adaptiveStart<int64_t>(i, n, m) ==
                      adaptiveEnd<int64_t>(0, n, m) &&
                  adaptiveStart<int64_t>(i, n, m) - adaptiveStart<int64_t>(i - 1, n, m) ==
                      adaptiveStart<int64_t>(1, n, m);
      std::optional<Window> w = adaptiveRegularWindow(n, m);
      ASSERT_EQ(w.has_value(), regular) << n << " " << m;
      if (w)
        for (int64_t i = 0; i < m; ++i) {
          ASSERT_EQ(adaptiveStart<int64_t>(i, n, m), i * w->stride);
          ASSERT_EQ(adaptiveEnd<int64_t>(i, n, m), i * w->stride + w->kernel);
        }
    }
}

} // namespace
