//===- ParserTest.cpp - Parsing .cnn into an AST --------------------------===//
#include "cnnc/DSL/Parser.h"

#include <gtest/gtest.h>

using namespace cnnc;

namespace {

struct Parsed {
  DiagnosticEngine diags;
  std::optional<Module> module;
  explicit Parsed(std::string_view src) : diags("t.cnn", src) { module = parseSource(src, diags); }
};

TEST(Parser, NetworkWithChainAndLabels) {
  Parsed p("network n { input x: 1x28x28  c1: conv(16, kernel: 5, pad: same) relu }");
  ASSERT_TRUE(p.module);
  const NetworkDef &n = p.module->networks.at(0);
  ASSERT_EQ(n.body.size(), 3u);
  EXPECT_EQ(n.body[0]->kind, Item::Kind::Input);
  EXPECT_EQ(n.body[0]->dims, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(n.body[1]->label, "c1");
  EXPECT_EQ(n.body[1]->callee, "conv");
  ASSERT_EQ(n.body[1]->args.size(), 3u);
  EXPECT_EQ(n.body[1]->args[0].name, "");
  EXPECT_EQ(n.body[1]->args[1].name, "kernel");
  EXPECT_EQ(n.body[1]->args[2].value->kind, Expr::Kind::Ident);
  EXPECT_EQ(n.body[2]->callee, "relu");
}

TEST(Parser, BlockWithDefaultsAndTypes) {
  Parsed p("block b(a: int, c = a * 2) { conv(c, kernel: 1) } network n { input x: 1x1x1 }");
  ASSERT_TRUE(p.module);
  const BlockDef &b = p.module->blocks.at(0);
  ASSERT_EQ(b.params.size(), 2u);
  EXPECT_EQ(b.params[0].type, "int");
  ASSERT_TRUE(b.params[1].defaultValue);
  EXPECT_EQ(b.params[1].defaultValue->kind, Expr::Kind::Binary);
}

TEST(Parser, MergesRepeatSeqRefOutput) {
  Parsed p("network n { input x: 3x8x8 a: concat { { relu } b2: { tanh } }"
           " repeat 2 as i { relu } s: seq { relu } @a output as y }");
  ASSERT_TRUE(p.module);
  const auto &body = p.module->networks[0].body;
  ASSERT_EQ(body.size(), 6u);
  EXPECT_TRUE(body[1]->hasBranches);
  ASSERT_EQ(body[1]->branches.size(), 2u);
  EXPECT_EQ(body[1]->branches[1]->label, "b2");
  EXPECT_EQ(body[2]->kind, Item::Kind::Repeat);
  EXPECT_EQ(body[2]->loopVar, "i");
  EXPECT_EQ(body[3]->kind, Item::Kind::Seq);
  EXPECT_EQ(body[4]->kind, Item::Kind::Ref);
  EXPECT_EQ(body[5]->kind, Item::Kind::Output);
  EXPECT_EQ(body[5]->name, "y");
}

TEST(Parser, ExpressionPrecedence) {
  Parsed p("network n { input x: 1x1x1 conv(1 + 2 * 3, kernel: a == 0 ? 1 : 2) }");
  ASSERT_TRUE(p.module);
  const Expr &e = *p.module->networks[0].body[1]->args[0].value;
  ASSERT_EQ(e.kind, Expr::Kind::Binary);
  EXPECT_EQ(e.text, "+");
  EXPECT_EQ(e.operands[1]->text, "*");
  EXPECT_EQ(p.module->networks[0].body[1]->args[1].value->kind, Expr::Kind::Cond);
}

TEST(Parser, ErrorHasLocationAndExpectation) {
  Parsed p("network n {\n  input x: 1x28x28\n  conv(16, kernel 5)\n}");
  EXPECT_FALSE(p.module);
  ASSERT_EQ(p.diags.diagnostics().size(), 1u);
  const Diagnostic &d = p.diags.diagnostics()[0];
  EXPECT_EQ(d.range.begin.line, 3u);
  EXPECT_EQ(d.range.begin.col, 19u);
  EXPECT_NE(d.message.find("expected `)`"), std::string::npos);
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string src = "network n { input x: 1x1x1 conv(" + std::string(5000, '(') + "1";
  Parsed p(src);
  EXPECT_FALSE(p.module);
  EXPECT_TRUE(p.diags.hasErrors());
}

} // namespace
