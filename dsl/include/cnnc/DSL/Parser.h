//===- Parser.h - Recursive-descent parser for .cnn ------------*- C++ -*-===//
//
// Parses a whole .cnn file into an AST Module. The grammar is in
// docs/language.md. On the first syntax error the parser reports it (with the
// location and what was expected) and returns nothing: a half-parsed network
// is never handed on. Nesting is bounded so hostile input cannot overflow the
// stack.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_PARSER_H
#define CNNC_DSL_PARSER_H

#include "cnnc/DSL/AST.h"
#include "cnnc/DSL/Lexer.h"

#include <optional>

namespace cnnc {

class Parser {
public:
  Parser(std::string_view source, DiagnosticEngine &diags);

  /// Parses the file; std::nullopt after a reported error.
  std::optional<Module> parseModule();

private:
  const Token &tok() const { return tokens[index]; }
  const Token &peekTok(size_t ahead = 1) const;
  bool at(TokenKind k) const { return tok().is(k); }
  bool atLabel() const;
  /// A quoted label or tensor name must be one state_dict name component.
  bool checkQuotedName(const Token &name);
  Token take();
  bool consume(TokenKind k);
  bool expect(TokenKind k, const char *context);
  bool errorAtToken(const std::string &message);

  bool parseConstDef(Module &m);
  bool parseBlockDef(Module &m);
  bool parseNetworkDef(Module &m);
  bool parseItems(std::vector<ItemPtr> &items, const char *context);
  ItemPtr parseItem();
  ItemPtr parseUnlabelledItem();
  ItemPtr parseGroup(Item::Kind kind, SourceLoc begin);
  bool parseArgs(std::vector<Arg> &args);
  ExprPtr parseExpr();
  ExprPtr boundedHeight(ExprPtr e);
  ExprPtr parseBinary(int minPrecedence);
  ExprPtr parseUnary();
  ExprPtr parsePrimary();

  DiagnosticEngine &diags;
  std::vector<Token> tokens;
  size_t index = 0;
  unsigned depth = 0;
  bool failed = false;
};

/// Lex and parse `source`; diagnostics go to `diags`.
std::optional<Module> parseSource(std::string_view source, DiagnosticEngine &diags);

} // namespace cnnc

#endif // CNNC_DSL_PARSER_H
