//===- SizeGenericTest.cpp - One function for every size of a class -------===//
//
// A size-generic step (plan::sizeGeneric) reads its tensors' sizes at run
// time, so steps that differ only in sizes share one generated function:
// but only within one shape class, which fixes what the schedule decides
// (vectors of channels or not, broadcasts), and never across attributes.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Codegen/ModelPlan.h"

#include <gtest/gtest.h>

using namespace cnnc;
using namespace cnnc::plan;

namespace {

/// Two layers of `kind` side by side, on inputs of shapes `a` and `b`: the
/// names of their generated functions.
std::pair<std::string, std::string> functionsOf(LayerKind kind, Shape a, Shape b,
                                                double slope = 0.01) {
  ModelPlan plan;
  plan.tensors = {{"x1", a}, {"y1", a}, {"x2", b}, {"y2", b}};
  plan.inputs = {{"x1", 0}, {"x2", 2}};
  Op first;
  first.kind = kind;
  first.layer = "first";
  first.inputs = {0};
  first.output = 1;
  Op second = first;
  second.layer = "second";
  second.inputs = {2};
  second.output = 3;
  second.slope = slope;
  plan.ops = {first, second};
  plan.outputs = {{"y1", 1, a}, {"y2", 3, b}};
  formSteps(plan);
  EXPECT_EQ(plan.steps.size(), 2u);
  EXPECT_TRUE(sizeGeneric(plan, plan.steps[0]));
  return {plan.steps[0].function, plan.steps[1].function};
}

TEST(SizeGeneric, StepsOfOneClassShareAFunctionWhateverTheirSizes) {
  auto [a, b] = functionsOf(LayerKind::Sigmoid, Shape{16, 56, 56}, Shape{40, 7, 9});
  EXPECT_EQ(a, b);
  auto [c, d] = functionsOf(LayerKind::LeakyReLU, Shape{5, 3, 3}, Shape{7, 30, 2});
  EXPECT_EQ(c, d);
}

TEST(SizeGeneric, ClassesAndAttributesStillSeparate) {
  // Fewer channels than a vector of 8 floats and more.
  auto [a, b] = functionsOf(LayerKind::Sigmoid, Shape{16, 4, 4}, Shape{7, 4, 4});
  EXPECT_NE(a, b);
  // 1x1 pixels (a broadcast operand elsewhere) and more.
  auto [c, d] = functionsOf(LayerKind::Sigmoid, Shape{16, 1, 1}, Shape{16, 4, 4});
  EXPECT_NE(c, d);
  // Same sizes, another attribute.
  auto [e, f] = functionsOf(LayerKind::LeakyReLU, Shape{16, 4, 4}, Shape{16, 4, 4}, 0.2);
  EXPECT_NE(e, f);
}

TEST(SizeGeneric, ShapeClassHoldsWhatSchedulesDecideOn) {
  EXPECT_EQ(shapeClass(Shape{16, 4, 4}), shapeClass(Shape{1000, 1, 7}));
  EXPECT_EQ(shapeClass(Shape{8, 4, 4}), shapeClass(Shape{15, 9, 9}));
  EXPECT_NE(shapeClass(Shape{8, 4, 4}), shapeClass(Shape{16, 4, 4}));
  EXPECT_NE(shapeClass(Shape{4, 4, 4}), shapeClass(Shape{8, 4, 4}));
  EXPECT_NE(shapeClass(Shape{2, 4, 4}), shapeClass(Shape{4, 4, 4}));
  EXPECT_NE(shapeClass(Shape{1, 4, 4}), shapeClass(Shape{2, 4, 4}));
  EXPECT_NE(shapeClass(Shape{16, 1, 1}), shapeClass(Shape{16, 1, 2}));
  EXPECT_NE(shapeClass(Shape{16, 1, 1, 2}), shapeClass(Shape{16, 1, 1, 4}));
}

TEST(SizeGeneric, ConvsAndTheirGradientsStaySpecialized) {
  ModelPlan plan;
  plan.tensors = {{"x", Shape{3, 8, 8}}, {"y", Shape{4, 8, 8}}};
  plan.params = {{"c.weight", {4, 3, 3, 3}}};
  Op conv;
  conv.kind = LayerKind::Conv;
  conv.layer = "c";
  conv.inputs = {0};
  conv.output = 1;
  conv.weight = 0;
  conv.kernel = {3, 3};
  plan.ops = {conv};
  Step forward;
  forward.ops = {0};
  EXPECT_FALSE(sizeGeneric(plan, forward));
  for (StepKind kind : {StepKind::ConvGradData, StepKind::ConvGradWeight}) {
    forward.kind = kind;
    EXPECT_FALSE(sizeGeneric(plan, forward));
  }
  // Its parameters' re-layouts are generic, unless a connection table (a
  // constant of the conv's sizes) is applied in them.
  forward.kind = StepKind::Prepare;
  EXPECT_TRUE(sizeGeneric(plan, forward));
  plan.ops[0].table = {{0}, {1}, {2}, {0, 1}};
  EXPECT_FALSE(sizeGeneric(plan, forward));
}

// The object cache keys a generic function by classes, not sizes: the same
// object serves another network whose layer has other sizes.
TEST(SizeGeneric, TheCacheSignatureHoldsClassesNotSizes) {
  auto signature = [](Shape s) {
    ModelPlan plan;
    plan.tensors = {{"x", s}, {"y", s}};
    plan.inputs = {{"x", 0}};
    Op op;
    op.kind = LayerKind::Tanh;
    op.layer = "t";
    op.inputs = {0};
    op.output = 1;
    plan.ops = {op};
    plan.outputs = {{"y", 1, s}};
    formSteps(plan);
    return functionSignature(plan, plan.steps[0]);
  };
  EXPECT_EQ(signature(Shape{32, 5, 5}), signature(Shape{64, 9, 3}));
  EXPECT_NE(signature(Shape{32, 5, 5}), signature(Shape{4, 5, 5}));
}

} // namespace
