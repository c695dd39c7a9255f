//===- LexerTest.cpp - Tokens of the .cnn language ------------------------===//
#include "cnnc/DSL/Lexer.h"

#include <gtest/gtest.h>

using namespace cnnc;

namespace {

std::vector<TokenKind> kinds(std::string_view src) {
  std::vector<TokenKind> out;
  for (const Token &t : Lexer(src).lexAll())
    out.push_back(t.kind);
  return out;
}

TEST(Lexer, KeywordsIdentifiersAndPunctuation) {
  EXPECT_EQ(kinds("network n { input x: 1x2x3 }"),
            (std::vector<TokenKind>{TokenKind::KwNetwork, TokenKind::Identifier, TokenKind::LBrace,
                                    TokenKind::KwInput, TokenKind::Identifier, TokenKind::Colon,
                                    TokenKind::Dims, TokenKind::RBrace, TokenKind::Eof}));
}

TEST(Lexer, NumbersAndDims) {
  auto toks = Lexer("42 0.5 1e-4 2.5E3 3x224x224 1x7").lexAll();
  ASSERT_EQ(toks.size(), 7u);
  EXPECT_EQ(toks[0].kind, TokenKind::Integer);
  EXPECT_EQ(toks[0].intValue, 42);
  EXPECT_EQ(toks[1].kind, TokenKind::Float);
  EXPECT_DOUBLE_EQ(toks[1].floatValue, 0.5);
  EXPECT_DOUBLE_EQ(toks[2].floatValue, 1e-4);
  EXPECT_DOUBLE_EQ(toks[3].floatValue, 2500.0);
  EXPECT_EQ(toks[4].kind, TokenKind::Dims);
  EXPECT_EQ(toks[4].dims, (std::vector<int64_t>{3, 224, 224}));
  EXPECT_EQ(toks[5].dims, (std::vector<int64_t>{1, 7}));
}

TEST(Lexer, CommentsAreSkipped) {
  EXPECT_EQ(kinds("// line\n# hash\n/* block\n comment */ relu"),
            (std::vector<TokenKind>{TokenKind::Identifier, TokenKind::Eof}));
}

TEST(Lexer, LocationsAreOneBased) {
  auto toks = Lexer("a\n  bc").lexAll();
  EXPECT_EQ(toks[1].range.begin.line, 2u);
  EXPECT_EQ(toks[1].range.begin.col, 3u);
  EXPECT_EQ(toks[1].range.end.col, 5u);
}

TEST(Lexer, OperatorsAndStrings) {
  auto toks = Lexer("== != <= >= && || -> \"a\\\"b\"").lexAll();
  EXPECT_EQ(toks[0].kind, TokenKind::EqualEqual);
  EXPECT_EQ(toks[1].kind, TokenKind::BangEqual);
  EXPECT_EQ(toks[2].kind, TokenKind::LessEqual);
  EXPECT_EQ(toks[3].kind, TokenKind::GreaterEqual);
  EXPECT_EQ(toks[4].kind, TokenKind::AmpAmp);
  EXPECT_EQ(toks[5].kind, TokenKind::PipePipe);
  EXPECT_EQ(toks[6].kind, TokenKind::Minus);
  EXPECT_EQ(toks[7].kind, TokenKind::Greater);
  EXPECT_EQ(toks[8].kind, TokenKind::String);
  EXPECT_EQ(toks[8].text, "a\"b");
}

TEST(Lexer, ErrorsAreTokens) {
  EXPECT_EQ(Lexer("$").next().kind, TokenKind::Error);
  EXPECT_EQ(Lexer("\"open").next().kind, TokenKind::Error);
  EXPECT_EQ(Lexer("/* open").next().kind, TokenKind::Error);
  EXPECT_EQ(Lexer("99999999999999999999").next().kind, TokenKind::Error);
  EXPECT_EQ(Lexer("3abc").next().kind, TokenKind::Error);
}

} // namespace
