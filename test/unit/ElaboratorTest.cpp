//===- ElaboratorTest.cpp - Blocks, repeats, naming, defaults -------------===//
#include "cnnc/DSL/Elaborator.h"
#include "cnnc/DSL/Parser.h"
#include "cnnc/DSL/Suggest.h"

#include <gtest/gtest.h>

#include <map>

using namespace cnnc;

namespace {

struct Elaborated {
  DiagnosticEngine diags;
  std::optional<Graph> graph;
  explicit Elaborated(std::string_view src) : diags("t.cnn", src) {
    if (auto m = parseSource(src, diags))
      if (const NetworkDef *n = selectNetwork(*m, "", diags))
        graph = elaborate(*m, *n, diags);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Layer &l : graph->layers)
      out.push_back(l.name);
    return out;
  }
  std::string firstError() const {
    return diags.diagnostics().empty() ? "" : diags.diagnostics()[0].message;
  }
};

TEST(Elaborator, InChannelsAsksTheOracleForTheCurrentTensorOnly) {
  // The oracle sees the tensor and the layers it reads, not the branch
  // beside it; it is asked once per tensor; the input needs no oracle.
  const char *src = "network n { input x: 3x8x8 a: conv(in_channels * 2, kernel: 1)"
                    " concat { { b: conv(4, kernel: 1) } { c: conv(in_channels, kernel: 1) } }"
                    " d: conv(in_channels, kernel: 1) e: conv(in_channels, kernel: 1) }";
  DiagnosticEngine diags("t.cnn", src);
  std::vector<std::vector<std::string>> asked;
  ShapeOracle oracle = [&](const Graph &prefix) -> std::optional<std::vector<int64_t>> {
    std::vector<std::string> names;
    for (const Layer &l : prefix.layers)
      names.push_back(l.name);
    asked.push_back(names);
    EXPECT_EQ(prefix.outputs.size(), 1u);
    EXPECT_EQ(prefix.outputs[0].layer, static_cast<int>(prefix.layers.size()) - 1);
    return std::vector<int64_t>{names.back() == "a" ? 6 : 10, 8, 8};
  };
  std::optional<Module> m = parseSource(src, diags);
  ASSERT_TRUE(m);
  std::optional<Graph> g = elaborate(*m, m->networks[0], diags, {}, oracle);
  ASSERT_TRUE(g) << (diags.diagnostics().empty() ? "" : diags.diagnostics()[0].message);
  std::map<std::string, int64_t> filters;
  for (const Layer &l : g->layers)
    if (l.kind == LayerKind::Conv)
      filters[l.name] = l.getInt("filters");
  EXPECT_EQ(filters["a"], 6);  // the input's 3, declared
  EXPECT_EQ(filters["c"], 6);  // a's, from the oracle
  EXPECT_EQ(filters["d"], 10); // the concat's
  EXPECT_EQ(filters["e"], 10); // d's
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0], (std::vector<std::string>{"x", "a"}));
  EXPECT_EQ(asked[1], (std::vector<std::string>{"x", "a", "b", "c", "concat1"}));
  EXPECT_EQ(asked[2].back(), "d");
}

TEST(Elaborator, InChannelsWithoutAnOracleIsALocatedError) {
  Elaborated e("network n { input x: 3x8x8 relu conv(in_channels, kernel: 1) }");
  EXPECT_FALSE(e.graph);
  EXPECT_EQ(e.firstError(), "`in_channels` needs shape inference, which this tool does not run");
  // At the input itself it needs none.
  Elaborated direct("network n { input x: 3x8x8 conv(in_channels, kernel: 1) }");
  ASSERT_TRUE(direct.graph);
  EXPECT_EQ(direct.graph->layers[1].getInt("filters"), 3);
}

TEST(Elaborator, DefaultsFollowPyTorch) {
  Elaborated e("network n { input x: 1x8x8 conv(4, kernel: 3) maxpool(2) }");
  ASSERT_TRUE(e.graph);
  const Layer &conv = e.graph->layers[1];
  EXPECT_EQ(conv.getInts("stride"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.getInts("pad"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(conv.getInts("dilation"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.getInt("groups"), 1);
  EXPECT_TRUE(conv.getBool("bias"));
  EXPECT_EQ(conv.attrs.at("mode").s, "zeros");
  // A pool's stride defaults to its kernel.
  EXPECT_EQ(e.graph->layers[2].getInts("stride"), (std::vector<int64_t>{2, 2}));
}

TEST(Elaborator, PaddingForms) {
  Elaborated e("network n { input x: 1x8x8 conv(1, kernel: 3, pad: [1, 2])"
               " conv(1, kernel: 3, pad: [1, 2, 3, 4]) conv(1, kernel: 3, pad: valid)"
               " conv(1, kernel: 2, pad: same) }");
  ASSERT_TRUE(e.graph);
  EXPECT_EQ(e.graph->layers[1].getInts("pad"), (std::vector<int64_t>{1, 2, 1, 2}));
  EXPECT_EQ(e.graph->layers[2].getInts("pad"), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(e.graph->layers[3].getInts("pad"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(e.graph->layers[4].attrs.at("pad").s, "same");
}

TEST(Elaborator, NamingByKindPositionAndLabel) {
  Elaborated e("block b(c) { conv1: conv(c, kernel: 1) relu }"
               "network n { input x: 1x8x8 conv(2, kernel: 1) conv(2, kernel: 1)"
               " layer1: repeat 2 { b(4) } f: seq { relu repeat 2 { tanh } } }");
  ASSERT_TRUE(e.graph);
  EXPECT_EQ(e.names(),
            (std::vector<std::string>{"x", "conv1", "conv2", "layer1.0.conv1", "layer1.0.relu1",
                                      "layer1.1.conv1", "layer1.1.relu1", "f.0", "f.1", "f.2"}));
}

TEST(Elaborator, BlockArgumentsAndExpressions) {
  Elaborated e("block b(c, k = c / 2 + 1, s = 1) { conv(c * 2, kernel: k, stride: s) }"
               "network n { input x: 1x9x9 repeat 2 as i { b(4, s: i == 0 ? 2 : 1) } }");
  ASSERT_TRUE(e.graph);
  EXPECT_EQ(e.graph->layers[1].getInt("filters"), 8);
  EXPECT_EQ(e.graph->layers[1].getInts("kernel"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(e.graph->layers[1].getInts("stride"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(e.graph->layers[2].getInts("stride"), (std::vector<int64_t>{1, 1}));
}

TEST(Elaborator, ProjectTakesTheOtherBranchAsReference) {
  Elaborated e("network n { input x: 1x8x8 add { { p: project } { c: conv(2, kernel: 1) } } }");
  ASSERT_TRUE(e.graph);
  // Topologically sorted: the conv comes before the projection that reads it.
  const Layer &p = e.graph->layers[2];
  EXPECT_EQ(p.name, "p");
  ASSERT_EQ(p.inputs.size(), 2u);
  EXPECT_EQ(e.graph->layers[p.inputs[1]].name, "c");
}

TEST(Elaborator, Errors) {
  EXPECT_NE(Elaborated("network n { input x: 1x8x8 convv(1, kernel: 1) }")
                .firstError()
                .find("did you mean `conv`"),
            std::string::npos);
  EXPECT_NE(Elaborated("network n { input x: 1x8x8 conv(1, kernal: 1) }")
                .firstError()
                .find("did you mean `kernel`"),
            std::string::npos);
  EXPECT_NE(Elaborated("block a() { a() } network n { input x: 1x8x8 a() }")
                .firstError()
                .find("instantiates itself"),
            std::string::npos);
  EXPECT_NE(Elaborated("network n { input x: 1x8x8 c: relu c: relu }")
                .firstError()
                .find("duplicate layer name `c`"),
            std::string::npos);
  EXPECT_NE(Elaborated("network n { input x: 1x8x8 @y }").firstError().find("unknown tensor"),
            std::string::npos);
  EXPECT_NE(Elaborated("block b(c: int) { relu } network n { input x: 1x8x8 b(\"s\") }")
                .firstError()
                .find("expects int"),
            std::string::npos);
  EXPECT_NE(
      Elaborated("network n { input x: 1x8x8 conv(0, kernel: 1) }").firstError().find("at least 1"),
      std::string::npos);
}

TEST(Elaborator, HugeRepeatIsBounded) {
  Elaborated e("network n { input x: 1x8x8 repeat 100000 { repeat 100000 { } } }");
  EXPECT_FALSE(e.graph);
  EXPECT_NE(e.firstError().find("too large"), std::string::npos);
}

} // namespace

namespace {
TEST(Suggest, TranspositionIsOneEdit) {
  EXPECT_EQ(cnnc::editDistance("stme", "stem"), 1u);
  EXPECT_EQ(cnnc::closestMatch("kernal", {"kernel", "stride"}), "kernel");
  EXPECT_EQ(cnnc::closestMatch("xyz", {"kernel", "stride"}), "");
}
} // namespace

namespace {

TEST(Elaborator, IfChoosesItsItemsWhichTakeTheNextPositions) {
  // In a seq, the chosen items continue the numbering as an unlabelled group
  // does; `else if` chains; the branch not taken is never elaborated (its
  // unknown layer is no error).
  Elaborated e("block b(expand) { seq { if expand { conv(4, kernel: 1) } relu"
               " if !expand { tanh } else if expand { sigmoid } else { nosuchlayer } } }"
               "network n { input x: 1x8x8 f: seq { b(true) b(false) } }");
  ASSERT_TRUE(e.graph) << e.firstError();
  EXPECT_EQ(e.names(),
            (std::vector<std::string>{"x", "f.0.0", "f.0.1", "f.0.2", "f.1.0", "f.1.1"}));
  EXPECT_EQ(e.graph->layers[3].kind, LayerKind::Sigmoid);
  EXPECT_EQ(e.graph->layers[5].kind, LayerKind::Tanh);
}

TEST(Elaborator, IfNeedsABooleanCondition) {
  Elaborated e("network n { input x: 1x8x8 if 1 { relu } }");
  EXPECT_FALSE(e.graph);
  EXPECT_EQ(e.firstError(), "`if` expects a boolean condition, got an integer");
}

} // namespace

namespace {

TEST(Elaborator, FileConstantsAreSeenByBlocksAndNetworksUnlessAParameterHidesThem) {
  Elaborated e("const width = 8 const wide = width * 2 "
               "block b(width = 3) { conv(width, kernel: 1) conv(wide, kernel: 1) } "
               "network n { input x: 1x8x8 conv(width, kernel: 1) b() b(5) }");
  ASSERT_TRUE(e.graph) << e.firstError();
  std::vector<int64_t> filters;
  for (const Layer &l : e.graph->layers)
    if (l.kind == LayerKind::Conv)
      filters.push_back(l.getInt("filters"));
  EXPECT_EQ(filters, (std::vector<int64_t>{8, 3, 16, 5, 16}));
}

TEST(Elaborator, FileConstantsAreDefinedOnceAndInOrder) {
  EXPECT_EQ(Elaborated("const a = 1 const a = 2 network n { input x: 1x8x8 relu }").firstError(),
            "duplicate constant `a`");
  // A constant sees only the earlier ones: `b` is still a bare keyword
  // value there, which a layer's integer parameter rejects.
  std::string error =
      Elaborated("const a = b const b = 2 network n { input x: 1x8x8 conv(a, kernel: 1) }")
          .firstError();
  EXPECT_EQ(error.rfind("unknown name `b`", 0), 0u) << error;
}

} // namespace

namespace {

TEST(Elaborator, AnUnlabelledSeqInsideASeqNestsLikeNnSequential) {
  // nn.Sequential(ReLU(), nn.Sequential(Tanh(), Sigmoid()), ReLU()): f.0,
  // f.1.0, f.1.1, f.2 (a collision on f.0 before).
  Elaborated e("network n { input x: 1x8x8 f: seq { relu seq { tanh sigmoid } relu } }");
  ASSERT_TRUE(e.graph) << e.firstError();
  EXPECT_EQ(e.names(), (std::vector<std::string>{"x", "f.0", "f.1.0", "f.1.1", "f.2"}));
}

} // namespace

namespace {

// A keyword value passed to a block (`act: hardswish`) compares with a
// string of the same text, as `mode: reflect` and `mode: "reflect"` are one
// value; a name without a value in a comparison is still a typo.
TEST(Elaborator, KeywordValuesCompareAsText) {
  Elaborated e("block b(act = \"relu\") { if act == \"hardswish\" { hardswish } else { relu } }"
               "network n { input x: 1x4x4 b(act: hardswish) b() b(act: \"hardswish\") }");
  ASSERT_TRUE(e.graph) << e.firstError();
  ASSERT_EQ(e.graph->layers.size(), 4u);
  EXPECT_EQ(e.graph->layers[1].kind, LayerKind::Hardswish);
  EXPECT_EQ(e.graph->layers[2].kind, LayerKind::ReLU);
  EXPECT_EQ(e.graph->layers[3].kind, LayerKind::Hardswish);
  Elaborated typo("block b(act = \"relu\") { if actt == \"relu\" { relu } }"
                  "network n { input x: 1x4x4 b() }");
  EXPECT_FALSE(typo.graph);
  EXPECT_EQ(typo.firstError().rfind("unknown name `actt`", 0), 0u) << typo.firstError();
}

} // namespace
