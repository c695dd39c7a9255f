//===- ChannelPadding.h - Derived buffers padded to whole vectors -*- C++ -*-===//
//
// Packed and transposed filters round the channel dimension their schedule
// vectorizes over up to a multiple of kChannelPadding (16 floats: one
// AVX-512 vector, two AVX2 vectors), so that whole vectors may be read.
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

} // namespace cnnc::plan

#endif // CNNC_CODEGEN_CHANNELPADDING_H
