//===- PadMode.h - A convolution's padding modes ----------------*- C++ -*-===//
//
// The padding modes of `conv`, with PyTorch's names (nn.Conv2d's
// padding_mode), listed once: the frontend's choices, the dialect's
// verifier, the plan and the lowering all use this enum. Header-only, no
// MLIR or Halide.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_PADMODE_H
#define CNNC_DSL_PADMODE_H

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace cnnc {

#define CNNC_PAD_MODES(X)                                                                          \
  X(Zeros, "zeros")                                                                                \
  X(Replicate, "replicate")                                                                        \
  X(Reflect, "reflect")

enum class PadMode {
#define CNNC_PAD_MODE_ENUM(Mode, name) Mode,
  CNNC_PAD_MODES(CNNC_PAD_MODE_ENUM)
#undef CNNC_PAD_MODE_ENUM
};

namespace detail {
inline constexpr const char *kPadModeNames[] = {
#define CNNC_PAD_MODE_NAME(Mode, name) name,
    CNNC_PAD_MODES(CNNC_PAD_MODE_NAME)
#undef CNNC_PAD_MODE_NAME
};
} // namespace detail

inline constexpr size_t kNumPadModes = std::size(detail::kPadModeNames);

constexpr const char *padModeName(PadMode mode) {
  return detail::kPadModeNames[static_cast<size_t>(mode)];
}

constexpr std::optional<PadMode> padModeNamed(std::string_view name) {
  for (size_t m = 0; m < kNumPadModes; ++m)
    if (name == detail::kPadModeNames[m])
      return static_cast<PadMode>(m);
  return std::nullopt;
}

/// "zeros, replicate or reflect", for messages.
inline std::string padModeChoices() {
  std::string out;
  for (size_t m = 0; m < kNumPadModes; ++m)
    out += std::string(m == 0                  ? ""
                       : m + 1 == kNumPadModes ? " or "
                                               : ", ") +
           detail::kPadModeNames[m];
  return out;
}

} // namespace cnnc

#endif // CNNC_DSL_PADMODE_H
