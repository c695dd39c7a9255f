//===- ChannelPadding.h - Derived buffers padded to whole vectors -*- C++ -*-===//
//
// Packed and transposed filters round the channel dimension their schedule
// vectorizes over up to a multiple of kChannelPadding (16 floats: one
// AVX-512 vector, two AVX2 vectors), so that whole vectors may be read, and
// keep their rows off multiples of 512 bytes (packedRow).
// Internal to the plan (Fusion.cpp, TrainingPlan.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_CODEGEN_CHANNELPADDING_H
#define CNNC_CODEGEN_CHANNELPADDING_H

#include <cstdint>

namespace cnnc::plan {

constexpr int64_t kChannelPadding = 16;

inline int64_t paddedChannels(int64_t channels) {
  return (channels + kChannelPadding - 1) / kChannelPadding * kChannelPadding;
}

/// The row length of packed or transposed filters (the channels a conv's
/// reduction reads as vectors): whole vectors, plus one vector when the row
/// would be a multiple of 512 bytes, which would map the rows read one
/// after another onto the same few L1 cache sets. (ResNet-18's 512-channel
/// 3x3 conv ran 15 % faster with the extra vector; its data gradient, whose
/// transposed filters were not padded so, 25.1 -> 16.3 ms at batch 8, the
/// 256-channel one 21.2 -> 6.9 ms.)
inline int64_t packedRow(int64_t channels) {
  int64_t row = paddedChannels(channels);
  return row % 128 == 0 ? row + kChannelPadding : row;
}

/// Dense weights are packed in blocks of this many units (the output tile
/// of the dense schedule: 2 AVX-512 vectors), each block's rows contiguous,
/// so that a task streams its block from memory in order. (Rows of all
/// units, read 32 units at a time, crossed a page per read: AlexNet's
/// 9216 x 4096 layer ran at 5-13 GB/s instead of 20-35.)
constexpr int64_t kDenseBlock = 32;

/// Units per block of a dense layer of `units` units: whole vectors, at most
/// kDenseBlock.
inline int64_t denseBlock(int64_t units) {
  return paddedChannels(units) < kDenseBlock ? paddedChannels(units) : kDenseBlock;
}

inline int64_t denseBlocks(int64_t units) {
  return (units + denseBlock(units) - 1) / denseBlock(units);
}

} // namespace cnnc::plan

#endif // CNNC_CODEGEN_CHANNELPADDING_H
