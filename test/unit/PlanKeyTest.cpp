//===- PlanKeyTest.cpp - The shared-function key covers every attribute ---===//
//
// Steps whose keys match share one generated function, so a key that left
// out an attribute would silently run one layer with another's settings.
// Every attribute of CNNC_OP_ATTRIBUTES is changed here, for every layer
// kind, and must change the key; the runtime-only attributes must not.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/ModelPlan.h"

#include <gtest/gtest.h>

using namespace cnnc;
using namespace cnnc::plan;

namespace {

// A value different from `v`, whatever its type.
void change(int64_t &v) { v += 1; }
void change(double &v) { v = v * 1.0000001 + 1e-300; }
void change(bool &v) { v = !v; }
void change(PadMode &m) { m = m == PadMode::Zeros ? PadMode::Reflect : PadMode::Zeros; }
template <typename T, size_t N> void change(std::array<T, N> &a) { change(a[N - 1]); }
void change(Table &t) { t.push_back({0}); }
void change(std::string &s) { s += "x"; }

ModelPlan planWith(const Op &op) {
  ModelPlan plan;
  plan.tensors = {{"x", Shape{8, 6, 6, 4}}, {"y", Shape{8, 6, 6, 4}}};
  plan.ops = {op};
  plan.ops[0].inputs = {0};
  plan.ops[0].output = 1;
  return plan;
}

std::string keyOf(const Op &op) { return describeOp(planWith(op), planWith(op).ops[0]); }

TEST(PlanKey, EveryAttributeOfEveryKindChangesTheKey) {
  for (size_t k = 0; k < kNumLayerKinds; ++k) {
    Op op;
    op.kind = static_cast<LayerKind>(k);
    std::string base = keyOf(op);
// The key of `op` with attribute `name` changed.
#define CNNC_CHANGED_KEY(name)                                                                     \
  [&] {                                                                                            \
    Op changed = op;                                                                               \
    change(changed.name);                                                                          \
    return keyOf(changed);                                                                         \
  }()
#define CNNC_CHECK_ATTRIBUTE(Type, name, init, doc)                                                \
  EXPECT_NE(CNNC_CHANGED_KEY(name), base) << #name " of " << layerKindName(op.kind);
#define CNNC_CHECK_RUNTIME_ATTRIBUTE(Type, name, init, doc)                                        \
  EXPECT_EQ(CNNC_CHANGED_KEY(name), base) << #name " of " << layerKindName(op.kind);
    CNNC_OP_ATTRIBUTES(CNNC_CHECK_ATTRIBUTE)
    CNNC_OP_RUNTIME_ATTRIBUTES(CNNC_CHECK_RUNTIME_ATTRIBUTE)
#undef CNNC_CHECK_ATTRIBUTE
#undef CNNC_CHECK_RUNTIME_ATTRIBUTE
#undef CNNC_CHANGED_KEY
    Op withBias = op;
    withBias.bias = 0;
    EXPECT_NE(keyOf(withBias), base) << "bias of " << layerKindName(op.kind);
  }
}

// Two LRN layers in a row on 8x6x6 tensors x -> a -> b, the second with
// `k2` as its k, and a 24-channel tensor "wide" that nothing uses; the
// steps formed.
ModelPlan lrnPair(double k2) {
  ModelPlan plan;
  Shape s{8, 6, 6, 4};
  plan.tensors = {{"x", s}, {"a", s}, {"b", s}, {"wide", Shape{24, 6, 6, 4}}};
  plan.inputs = {{"x", 0}};
  Op a;
  a.kind = LayerKind::LRN;
  a.layer = "lrn1";
  a.inputs = {0};
  a.output = 1;
  Op b = a;
  b.layer = "lrn2";
  b.inputs = {1};
  b.output = 2;
  b.k = k2;
  plan.ops = {a, b};
  plan.outputs = {{"b", 2, s}};
  formSteps(plan);
  return plan;
}

// One generated function when their attributes agree, two when one differs
// in its last digits.
TEST(PlanKey, StepsShareAFunctionOnlyWhenTheirAttributesAgree) {
  ModelPlan same = lrnPair(1.0), different = lrnPair(1.0000000001);
  ASSERT_EQ(same.steps.size(), 2u);
  ASSERT_EQ(different.steps.size(), 2u);
  EXPECT_EQ(same.steps[0].function, same.steps[1].function);
  EXPECT_NE(different.steps[0].function, different.steps[1].function);
}

// A step whose output is a channel slice of a wider buffer (a concat
// written in place) has that stride built into its code: it must not share
// a function with the same step writing a buffer of its own.
TEST(PlanKey, AChannelSliceIsPartOfTheKey) {
  ModelPlan plan = lrnPair(1.0);
  ASSERT_EQ(plan.steps.size(), 2u);
  ASSERT_FALSE(sizeGeneric(plan, plan.steps[0]));
  EXPECT_EQ(plan.steps[0].function, plan.steps[1].function);
  plan.tensors[1].storage = 3;
  plan.tensors[1].channelOffset = 16;
  nameFunctions(plan);
  EXPECT_NE(plan.steps[0].function, plan.steps[1].function);
  EXPECT_EQ(storageText(plan, plan.steps[0], plan.steps[0].outputs[0]), " within 24");
  EXPECT_NE(functionSignature(plan, plan.steps[0]).find("within 24"), std::string::npos);
  EXPECT_EQ(storageChannels(plan, 1), 24);
  EXPECT_EQ(storageOf(plan, 1), 3);
  EXPECT_EQ(storageOf(plan, 2), 2);
}

} // namespace
