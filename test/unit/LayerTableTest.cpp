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
  EXPECT_EQ(activations, 4); // relu, leaky_relu, sigmoid, tanh
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
