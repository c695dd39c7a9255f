//===- Lexer.cpp - Tokens of the .cnn language ----------------------------===//
#include "cnnc/DSL/Lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <utility>

namespace cnnc {

namespace {
/// The keywords, spelled once for the lexer and for messages.
constexpr std::pair<const char *, TokenKind> kKeywords[] = {
    {"network", TokenKind::KwNetwork}, {"block", TokenKind::KwBlock},
    {"input", TokenKind::KwInput},     {"output", TokenKind::KwOutput},
    {"repeat", TokenKind::KwRepeat},   {"as", TokenKind::KwAs},
    {"seq", TokenKind::KwSeq},         {"true", TokenKind::KwTrue},
    {"false", TokenKind::KwFalse},     {"if", TokenKind::KwIf},
    {"else", TokenKind::KwElse},       {"const", TokenKind::KwConst},
};
} // namespace

const char *tokenKindName(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Error:
    return "invalid token";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::Integer:
    return "integer";
  case TokenKind::Float:
    return "number";
  case TokenKind::String:
    return "string";
  case TokenKind::Dims:
    return "dimensions";
  case TokenKind::KwNetwork:
    return "`network`";
  case TokenKind::KwBlock:
    return "`block`";
  case TokenKind::KwInput:
    return "`input`";
  case TokenKind::KwOutput:
    return "`output`";
  case TokenKind::KwRepeat:
    return "`repeat`";
  case TokenKind::KwAs:
    return "`as`";
  case TokenKind::KwSeq:
    return "`seq`";
  case TokenKind::KwTrue:
    return "`true`";
  case TokenKind::KwFalse:
    return "`false`";
  case TokenKind::KwConst:
    return "`const`";
  case TokenKind::KwIf:
    return "`if`";
  case TokenKind::KwElse:
    return "`else`";
  case TokenKind::LParen:
    return "`(`";
  case TokenKind::RParen:
    return "`)`";
  case TokenKind::LBrace:
    return "`{`";
  case TokenKind::RBrace:
    return "`}`";
  case TokenKind::LBracket:
    return "`[`";
  case TokenKind::RBracket:
    return "`]`";
  case TokenKind::Comma:
    return "`,`";
  case TokenKind::Colon:
    return "`:`";
  case TokenKind::Equal:
    return "`=`";
  case TokenKind::At:
    return "`@`";
  case TokenKind::Question:
    return "`?`";
  case TokenKind::Plus:
    return "`+`";
  case TokenKind::Minus:
    return "`-`";
  case TokenKind::Star:
    return "`*`";
  case TokenKind::Slash:
    return "`/`";
  case TokenKind::Percent:
    return "`%`";
  case TokenKind::EqualEqual:
    return "`==`";
  case TokenKind::BangEqual:
    return "`!=`";
  case TokenKind::Less:
    return "`<`";
  case TokenKind::LessEqual:
    return "`<=`";
  case TokenKind::Greater:
    return "`>`";
  case TokenKind::GreaterEqual:
    return "`>=`";
  case TokenKind::AmpAmp:
    return "`&&`";
  case TokenKind::PipePipe:
    return "`||`";
  case TokenKind::Bang:
    return "`!`";
  }
  return "token";
}

char Lexer::advance() {
  char c = src[pos++];
  if (c == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  return c;
}

Token Lexer::make(TokenKind kind, SourceLoc begin, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  t.range = {begin, loc()};
  return t;
}

bool Lexer::skipTrivia(Token &errorTok) {
  while (pos < src.size()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else if (c == '#' || (c == '/' && peek(1) == '/')) {
      while (pos < src.size() && peek() != '\n')
        advance();
    } else if (c == '/' && peek(1) == '*') {
      SourceLoc begin = loc();
      advance();
      advance();
      while (pos < src.size() && !(peek() == '*' && peek(1) == '/'))
        advance();
      if (pos >= src.size()) {
        errorTok = make(TokenKind::Error, begin, "unterminated `/*` comment");
        errorTok.range.end = {begin.line, begin.col + 2};
        return false;
      }
      advance();
      advance();
    } else {
      break;
    }
  }
  return true;
}

Token Lexer::next() {
  Token err;
  if (!skipTrivia(err))
    return err;
  SourceLoc begin = loc();
  if (pos >= src.size())
    return make(TokenKind::Eof, begin, "");
  char c = peek();
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))))
    return lexNumber();
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexIdentifier();
  if (c == '"')
    return lexString();

  advance();
  auto two = [&](char second, TokenKind both, TokenKind one) {
    if (peek() == second) {
      advance();
      return make(both, begin, std::string{c, second});
    }
    return make(one, begin, std::string(1, c));
  };
  switch (c) {
  case '(':
    return make(TokenKind::LParen, begin, "(");
  case ')':
    return make(TokenKind::RParen, begin, ")");
  case '{':
    return make(TokenKind::LBrace, begin, "{");
  case '}':
    return make(TokenKind::RBrace, begin, "}");
  case '[':
    return make(TokenKind::LBracket, begin, "[");
  case ']':
    return make(TokenKind::RBracket, begin, "]");
  case ',':
    return make(TokenKind::Comma, begin, ",");
  case ':':
    return make(TokenKind::Colon, begin, ":");
  case '@':
    return make(TokenKind::At, begin, "@");
  case '?':
    return make(TokenKind::Question, begin, "?");
  case '+':
    return make(TokenKind::Plus, begin, "+");
  case '-':
    return make(TokenKind::Minus, begin, "-");
  case '*':
    return make(TokenKind::Star, begin, "*");
  case '/':
    return make(TokenKind::Slash, begin, "/");
  case '%':
    return make(TokenKind::Percent, begin, "%");
  case '=':
    return two('=', TokenKind::EqualEqual, TokenKind::Equal);
  case '!':
    return two('=', TokenKind::BangEqual, TokenKind::Bang);
  case '<':
    return two('=', TokenKind::LessEqual, TokenKind::Less);
  case '>':
    return two('=', TokenKind::GreaterEqual, TokenKind::Greater);
  case '&':
    if (peek() == '&') {
      advance();
      return make(TokenKind::AmpAmp, begin, "&&");
    }
    break;
  case '|':
    if (peek() == '|') {
      advance();
      return make(TokenKind::PipePipe, begin, "||");
    }
    break;
  default:
    break;
  }
  std::string shown = std::isprint(static_cast<unsigned char>(c))
                          ? std::string(1, c)
                          : "\\x" + std::to_string(static_cast<unsigned char>(c));
  return make(TokenKind::Error, begin, "unexpected character `" + shown + "`");
}

static bool parseInt(std::string_view digits, int64_t &out) {
  int64_t v = 0;
  for (char d : digits) {
    if (v > (std::numeric_limits<int64_t>::max() - (d - '0')) / 10)
      return false;
    v = v * 10 + (d - '0');
  }
  out = v;
  return true;
}

Token Lexer::lexNumber() {
  SourceLoc begin = loc();
  size_t start = pos;
  auto isDigit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); };
  while (isDigit(peek()))
    advance();
  bool isFloat = false;
  if (peek() == '.' && isDigit(peek(1))) {
    isFloat = true;
    advance();
    while (isDigit(peek()))
      advance();
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (isDigit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && isDigit(peek(2))))) {
    isFloat = true;
    advance();
    if (peek() == '-' || peek() == '+')
      advance();
    while (isDigit(peek()))
      advance();
  }
  std::string text(src.substr(start, pos - start));
  if (isFloat) {
    Token t = make(TokenKind::Float, begin, text);
    t.floatValue = std::strtod(text.c_str(), nullptr);
    return t;
  }
  // A dimension literal: INT ('x' INT)+ with no spaces.
  if (peek() == 'x' && isDigit(peek(1))) {
    std::vector<int64_t> dims;
    int64_t first;
    if (!parseInt(text, first))
      return make(TokenKind::Error, begin, "integer `" + text + "` is too large");
    dims.push_back(first);
    while (peek() == 'x' && isDigit(peek(1))) {
      advance();
      size_t s = pos;
      while (isDigit(peek()))
        advance();
      int64_t d;
      if (!parseInt(src.substr(s, pos - s), d))
        return make(TokenKind::Error, begin, "dimension is too large");
      dims.push_back(d);
    }
    Token t = make(TokenKind::Dims, begin, std::string(src.substr(start, pos - start)));
    t.dims = std::move(dims);
    return t;
  }
  if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_') {
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
      advance();
    return make(TokenKind::Error, begin,
                "invalid number `" + std::string(src.substr(start, pos - start)) + "`");
  }
  int64_t value;
  if (!parseInt(text, value))
    return make(TokenKind::Error, begin, "integer `" + text + "` is too large");
  Token t = make(TokenKind::Integer, begin, text);
  t.intValue = value;
  return t;
}

Token Lexer::lexIdentifier() {
  SourceLoc begin = loc();
  size_t start = pos;
  while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
    advance();
  std::string text(src.substr(start, pos - start));
  TokenKind kind = TokenKind::Identifier;
  for (const auto &[spelling, keyword] : kKeywords)
    if (text == spelling)
      kind = keyword;
  return make(kind, begin, text);
}

Token Lexer::lexString() {
  SourceLoc begin = loc();
  advance(); // opening quote
  std::string value;
  while (pos < src.size() && peek() != '"' && peek() != '\n') {
    char c = advance();
    if (c == '\\' && pos < src.size()) {
      char e = advance();
      switch (e) {
      case 'n':
        value += '\n';
        break;
      case 't':
        value += '\t';
        break;
      case '\\':
        value += '\\';
        break;
      case '"':
        value += '"';
        break;
      default:
        return make(TokenKind::Error, begin, std::string("unknown escape `\\") + e + "` in string");
      }
    } else {
      value += c;
    }
  }
  if (peek() != '"') {
    Token t = make(TokenKind::Error, begin, "unterminated string");
    t.range.end = {begin.line, begin.col + 1};
    return t;
  }
  advance();
  return make(TokenKind::String, begin, value);
}

std::vector<Token> Lexer::lexAll() {
  std::vector<Token> tokens;
  do {
    tokens.push_back(next());
  } while (!tokens.back().is(TokenKind::Eof));
  return tokens;
}

} // namespace cnnc
