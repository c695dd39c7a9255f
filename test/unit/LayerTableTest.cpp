//===- LayerTableTest.cpp - The layer table and what is derived from it ---===//
//
// LayerKinds.def is the one list of layer kinds: the frontend's specs, the
// plan's fused activations and docs/language.md's table of layers must all
// agree with it.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/ModelPlan.h"
#include "cnnc/DSL/LayerKind.h"
#include "cnnc/DSL/LayerSpec.h"
#include "cnnc/DSL/PadMode.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace cnnc;

namespace {

std::vector<LayerKind> allKinds() {
  std::vector<LayerKind> kinds;
  for (size_t k = 0; k < kNumLayerKinds; ++k)
    kinds.push_back(static_cast<LayerKind>(k));
  return kinds;
}

TEST(LayerTable, NamesAreUniqueAndFoundAgain) {
  std::set<std::string> names;
  for (LayerKind k : allKinds()) {
    EXPECT_TRUE(names.insert(layerKindName(k)).second) << layerKindName(k);
    ASSERT_TRUE(layerKindNamed(layerKindName(k)).has_value()) << layerKindName(k);
    EXPECT_EQ(*layerKindNamed(layerKindName(k)), k);
  }
  EXPECT_FALSE(layerKindNamed("convolution").has_value());
  EXPECT_STREQ(layerKindName(LayerKind::GlobalAvgPool), "global_avgpool");
  EXPECT_EQ(layerFamily(LayerKind::L2Pool), LayerFamily::WindowPool);
  EXPECT_STREQ(layerFamilyName(LayerFamily::Merge), "Merge");
}

TEST(LayerTable, EveryKindButInputHasOneSpecOfItsName) {
  std::map<LayerKind, int> specs;
  for (const LayerSpec &s : layerSpecs()) {
    ++specs[s.kind];
    EXPECT_EQ(s.name, layerKindName(s.kind));
    EXPECT_EQ(s.isMerge, layerFamily(s.kind) == LayerFamily::Merge) << s.name;
    EXPECT_EQ(findLayerSpec(s.name), &s);
  }
  for (LayerKind k : allKinds())
    EXPECT_EQ(specs[k], k == LayerKind::Input ? 0 : 1) << layerKindName(k);
}

TEST(LayerTable, FusedActivationsAreTheActivationFamily) {
  int activations = 0;
  for (LayerKind k : allKinds()) {
    plan::Activation act = plan::activationOf(k);
    if (layerFamily(k) != LayerFamily::Activation) {
      EXPECT_EQ(act, plan::Activation::None) << layerKindName(k);
      continue;
    }
    ++activations;
    EXPECT_NE(act, plan::Activation::None) << layerKindName(k);
    EXPECT_STREQ(plan::activationName(act), layerKindName(k));
  }
  EXPECT_EQ(activations, 12); // relu, leaky_relu, sigmoid, tanh, relu6, hardtanh, hardsigmoid,
                              // hardswish, silu, gelu, elu, scale
  EXPECT_STREQ(plan::activationName(plan::Activation::None), "none");
}

TEST(LayerTable, ConvModeChoicesAreThePadModes) {
  const LayerSpec &conv = layerSpecFor(LayerKind::Conv);
  const ParamSpec *mode = nullptr;
  for (const ParamSpec &p : conv.params)
    if (p.name == "mode")
      mode = &p;
  ASSERT_NE(mode, nullptr);
  ASSERT_EQ(mode->choices.size(), kNumPadModes);
  for (size_t m = 0; m < kNumPadModes; ++m) {
    EXPECT_EQ(mode->choices[m], padModeName(static_cast<PadMode>(m)));
    EXPECT_EQ(padModeNamed(mode->choices[m]), static_cast<PadMode>(m));
  }
  EXPECT_FALSE(padModeNamed("circular").has_value()); // PyTorch has it; cnnc does not yet
  EXPECT_EQ(padModeChoices(), "zeros, replicate or reflect");
}

TEST(LayerTable, EveryLayerHasAnOpMnemonicFoundAgain) {
  std::set<std::string> ops;
  for (LayerKind k : allKinds()) {
    std::string op = layerOpName(k);
    if (k == LayerKind::Input) {
      EXPECT_EQ(op, "");
      EXPECT_FALSE(layerKindOfOp("").has_value());
      continue;
    }
    EXPECT_TRUE(ops.insert(op).second) << op;
    EXPECT_EQ(layerKindOfOp(op), k) << op;
    if (layerFamily(k) == LayerFamily::Activation)
      EXPECT_EQ(op, layerKindName(k));
  }
  EXPECT_STREQ(layerOpName(LayerKind::Conv), "conv2d");
  EXPECT_FALSE(layerKindOfOp("conv").has_value());
}

/// The parameters that only shape inference reads: the plan has the shapes
/// they give, not the parameters.
const std::set<std::string> kShapeOnlyParams = {"filters", "units", "in"};

TEST(LayerTable, EveryAttributeParameterIsAPlanAttributeOfTheSameName) {
  std::set<std::string> planAttributes;
#define CNNC_NAME_OF(Type, name, init, doc) planAttributes.insert(#name);
  CNNC_OP_ATTRIBUTES(CNNC_NAME_OF)
  CNNC_OP_RUNTIME_ATTRIBUTES(CNNC_NAME_OF)
#undef CNNC_NAME_OF
  std::set<std::string> used;
  for (const LayerSpec &s : layerSpecs())
    for (const ParamSpec &p : s.params) {
      if (p.role != ParamRole::Attribute || kShapeOnlyParams.count(p.name))
        continue;
      EXPECT_TRUE(planAttributes.count(p.name))
          << "`" << p.name << "` of `" << s.name << "` has no plan attribute of its name";
      used.insert(p.name);
    }
  for (const std::string &a : planAttributes)
    EXPECT_TRUE(used.count(a)) << "plan attribute `" << a << "` is no layer's parameter";
}

TEST(LayerTable, EveryTensorHasAPlanFieldAndSwitchesAreBoolParameters) {
  for (const LayerSpec &s : layerSpecs()) {
    bool optionalSeen = false;
    for (const TensorSpec &t : s.tensors) {
      plan::Op op;
      EXPECT_NE(plan::tensorField(op, t.suffix), nullptr) << s.name << "." << t.suffix;
      if (!t.onlyIf.empty()) {
        const ParamSpec *p = s.param(t.onlyIf);
        ASSERT_NE(p, nullptr) << s.name << "." << t.suffix;
        EXPECT_EQ(p->type, ParamType::Bool);
        EXPECT_EQ(p->role, ParamRole::BiasSwitch);
      }
      // The plan builder matches param operands to tensors in order.
      EXPECT_FALSE(optionalSeen && t.onlyIf.empty())
          << s.name << ": a tensor that is always there follows an optional one";
      optionalSeen |= !t.onlyIf.empty();
    }
  }
  EXPECT_EQ(layerSpecFor(LayerKind::BatchNorm).tensors.size(), 4u);
  EXPECT_TRUE(layerSpecFor(LayerKind::ReLU).tensors.empty());
}

TEST(LayerTable, BoundsAreDescribedAndChecked) {
  const LayerSpec &conv = layerSpecFor(LayerKind::Conv);
  EXPECT_EQ(boundsViolation(*conv.param("kernel"), Value::ints({3, 0})),
            "must be at least 1, got 0");
  EXPECT_EQ(boundsViolation(*conv.param("kernel"), Value::ints({3, 1})), std::nullopt);
  EXPECT_EQ(boundsViolation(*conv.param("pad"), Value::ints({0, -1, 0, 0})),
            "must not be negative, got -1");
  EXPECT_EQ(boundsViolation(*conv.param("pad"), Value::symbol("same")), std::nullopt);
  EXPECT_EQ(boundsViolation(*conv.param("table"),
                            Value::makeList({Value::ints({0, 1}), Value::ints({2, -3})})),
            "must not be negative, got -3");
  const LayerSpec &bn = layerSpecFor(LayerKind::BatchNorm);
  EXPECT_EQ(boundsViolation(*bn.param("eps"), Value::real(0)), "must be positive, got 0.0");
  EXPECT_EQ(boundsViolation(*bn.param("momentum"), Value::real(1)), std::nullopt);
  const LayerSpec &drop = layerSpecFor(LayerKind::Dropout);
  EXPECT_EQ(boundsViolation(*drop.param("p"), Value::real(1)), "must be in [0, 1), got 1.0");
  const LayerSpec &augment = layerSpecFor(LayerKind::Augment);
  EXPECT_EQ(boundsViolation(*augment.param("shear"), Value::real(80)),
            "must be in [0, 80) degrees, got 80.0");
  auto pair = [](double a, double b) { return Value::makeList({Value::real(a), Value::real(b)}); };
  EXPECT_EQ(boundsViolation(*augment.param("scale"), pair(1.2, 0.9)),
            "must be [min, max] with 0 < min <= max <= 10, got [1.2, 0.9]");
  EXPECT_EQ(boundsViolation(*augment.param("scale"), pair(0.9, 1.2)), std::nullopt);
  // A parameter without bounds takes anything of its type.
  EXPECT_EQ(boundsViolation(*layerSpecFor(LayerKind::LeakyReLU).param("slope"), Value::real(-5)),
            std::nullopt);
}

/// docs/language.md's table of layers: each row's layer names (first
/// column) and parameter names (the back-quoted words of the second).
std::map<std::string, std::set<std::string>> documentedLayers() {
  std::ifstream in(CNNC_SOURCE_DIR "/docs/language.md");
  EXPECT_TRUE(in.good());
  std::map<std::string, std::set<std::string>> layers;
  std::string line;
  bool inTable = false;
  std::regex quoted("`([a-z0-9_]+)`");
  while (std::getline(in, line)) {
    if (line.rfind("| layer | parameters", 0) == 0) {
      inTable = true;
      continue;
    }
    if (!inTable || line.rfind("|---", 0) == 0)
      continue;
    if (line.rfind("|", 0) != 0)
      break;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');)
      cells.push_back(cell);
    EXPECT_GE(cells.size(), 2u) << line;
    if (cells.size() < 2)
      continue;
    std::set<std::string> params;
    for (std::sregex_iterator m(cells[1].begin(), cells[1].end(), quoted), end; m != end; ++m)
      params.insert((*m)[1]);
    for (std::sregex_iterator m(cells[0].begin(), cells[0].end(), quoted), end; m != end; ++m)
      EXPECT_TRUE(layers.emplace((*m)[1], params).second) << "documented twice: " << (*m)[1];
  }
  return layers;
}

TEST(LayerTable, LanguageDocumentationListsEveryLayerAndParameter) {
  std::map<std::string, std::set<std::string>> documented = documentedLayers();
  for (const LayerSpec &s : layerSpecs()) {
    auto it = documented.find(s.name);
    if (it == documented.end()) {
      ADD_FAILURE() << "docs/language.md does not list `" << s.name << "`";
      continue;
    }
    std::set<std::string> params;
    for (const ParamSpec &p : s.params)
      params.insert(p.name);
    EXPECT_EQ(it->second, params) << "parameters of `" << s.name << "` in docs/language.md";
    documented.erase(it);
  }
  for (const auto &[name, params] : documented)
    ADD_FAILURE() << "docs/language.md lists `" << name << "`, which is not a layer";
}

} // namespace
