//===- LayerKind.h - Layer kinds, their names and families -----*- C++ -*-===//
//
// The kinds of LayerKinds.def as an enum, with their surface names and
// families, for every stage: the frontend (LayerSpec), the plan and the
// lowering all use this enum. Header-only and free of MLIR and Halide, so
// that the plan and the runtime-facing code can use it without linking the
// frontend.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_LAYERKIND_H
#define CNNC_DSL_LAYERKIND_H

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>

namespace cnnc {

enum class LayerFamily {
#define CNNC_LAYER_FAMILY(Family, summary) Family,
#include "cnnc/DSL/LayerKinds.def"
};

enum class LayerKind {
#define CNNC_LAYER(Kind, name, op, Family) Kind,
#include "cnnc/DSL/LayerKinds.def"
};

namespace detail {
struct LayerKindInfo {
  const char *name;
  const char *op;
  LayerFamily family;
};
inline constexpr LayerKindInfo kLayerKinds[] = {
#define CNNC_LAYER(Kind, name, op, Family) {name, op, LayerFamily::Family},
#include "cnnc/DSL/LayerKinds.def"
};
inline constexpr const char *kLayerFamilyNames[] = {
#define CNNC_LAYER_FAMILY(Family, summary) #Family,
#include "cnnc/DSL/LayerKinds.def"
};
} // namespace detail

inline constexpr size_t kNumLayerKinds = std::size(detail::kLayerKinds);
inline constexpr size_t kNumLayerFamilies = std::size(detail::kLayerFamilyNames);

/// The surface name of a kind: `conv`, `input`, `global_avgpool`.
constexpr const char *layerKindName(LayerKind kind) {
  return detail::kLayerKinds[static_cast<size_t>(kind)].name;
}

constexpr LayerFamily layerFamily(LayerKind kind) {
  return detail::kLayerKinds[static_cast<size_t>(kind)].family;
}

/// `Activation`, `WindowPool`, ...
constexpr const char *layerFamilyName(LayerFamily family) {
  return detail::kLayerFamilyNames[static_cast<size_t>(family)];
}

/// The mnemonic of the kind's op in the cnn dialect: `conv2d` for `conv`
/// ("" for `input`).
constexpr const char *layerOpName(LayerKind kind) {
  return detail::kLayerKinds[static_cast<size_t>(kind)].op;
}

/// The kind whose op mnemonic is `op`, if any.
constexpr std::optional<LayerKind> layerKindOfOp(std::string_view op) {
  for (size_t k = 0; k < kNumLayerKinds; ++k)
    if (!op.empty() && op == detail::kLayerKinds[k].op)
      return static_cast<LayerKind>(k);
  return std::nullopt;
}

/// The kind whose surface name is `name`, if any.
constexpr std::optional<LayerKind> layerKindNamed(std::string_view name) {
  for (size_t k = 0; k < kNumLayerKinds; ++k)
    if (name == detail::kLayerKinds[k].name)
      return static_cast<LayerKind>(k);
  return std::nullopt;
}

} // namespace cnnc

#endif // CNNC_DSL_LAYERKIND_H
