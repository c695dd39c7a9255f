//===- Lexer.h - Tokens of the .cnn language -------------------*- C++ -*-===//
//
// The lexer turns .cnn source into tokens with source ranges. It knows the
// keywords, numbers (integers, decimals with exponents), strings, and the
// dimension literal `3x224x224`, which is one token so that `input image:
// 1x28x28` and `kernel: 1x7` read naturally. Comments are `// ...`, `# ...`
// and `/* ... */`. Bad characters become Error tokens that the parser reports.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_LEXER_H
#define CNNC_DSL_LEXER_H

#include "cnnc/DSL/Diagnostics.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cnnc {

enum class TokenKind {
  Eof,
  Error,
  Identifier,
  Integer,
  Float,
  String,
  Dims, // 3x224x224
  // Keywords (KwNetwork to KwElse: isKeyword).
  KwNetwork,
  KwBlock,
  KwInput,
  KwOutput,
  KwRepeat,
  KwAs,
  KwSeq,
  KwTrue,
  KwFalse,
  KwConst,
  KwIf,
  KwElse,
  // Punctuation and operators.
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equal,
  At,
  Question,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  EqualEqual,
  BangEqual,
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
  AmpAmp,
  PipePipe,
  Bang,
};

/// True for the keywords, which may also be labels (`block: ...`).
inline bool isKeyword(TokenKind k) { return k >= TokenKind::KwNetwork && k <= TokenKind::KwElse; }

/// A human-readable spelling of a token kind, for "expected X" messages.
const char *tokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string text; // the spelling; decoded contents for strings
  SourceRange range;
  int64_t intValue = 0;
  double floatValue = 0;
  std::vector<int64_t> dims; // for Dims
  bool is(TokenKind k) const { return kind == k; }
};

class Lexer {
public:
  explicit Lexer(std::string_view source) : src(source) {}

  /// Lex the next token. After the end, keeps returning Eof.
  Token next();
  /// Lex the whole input (the last token is Eof).
  std::vector<Token> lexAll();

private:
  char peek(size_t ahead = 0) const { return pos + ahead < src.size() ? src[pos + ahead] : '\0'; }
  char advance();
  SourceLoc loc() const { return {line, col}; }
  /// Skips whitespace and comments; returns false on an unterminated comment.
  bool skipTrivia(Token &errorTok);
  Token lexNumber();
  Token lexIdentifier();
  Token lexString();
  Token make(TokenKind kind, SourceLoc begin, std::string text);

  std::string_view src;
  size_t pos = 0;
  uint32_t line = 1;
  uint32_t col = 1;
};

} // namespace cnnc

#endif // CNNC_DSL_LEXER_H
