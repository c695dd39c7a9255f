//===- Parser.cpp - Recursive-descent parser for .cnn ---------------------===//
#include "cnnc/DSL/Parser.h"

namespace cnnc {

namespace {
/// Deep enough for any real network; small enough to keep the stack safe.
constexpr unsigned kMaxNesting = 200;
/// The same for an expression's tree, which a flat chain `1 + 1 + ...`
/// makes as deep as it is long without any nesting in the source.
constexpr unsigned kMaxExpressionHeight = 1000;

struct DepthGuard {
  unsigned &depth;
  explicit DepthGuard(unsigned &d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
};
} // namespace

Parser::Parser(std::string_view source, DiagnosticEngine &diags) : diags(diags) {
  tokens = Lexer(source).lexAll();
}

const Token &Parser::peekTok(size_t ahead) const {
  size_t i = index + ahead;
  return i < tokens.size() ? tokens[i] : tokens.back();
}

Token Parser::take() {
  Token t = tokens[index];
  if (index + 1 < tokens.size())
    ++index;
  return t;
}

bool Parser::consume(TokenKind k) {
  if (!at(k))
    return false;
  take();
  return true;
}

bool Parser::errorAtToken(const std::string &message) {
  if (!failed) {
    if (at(TokenKind::Error))
      diags.error(tok().range, tok().text);
    else
      diags.error(tok().range, message);
  }
  failed = true;
  return false;
}

bool Parser::expect(TokenKind k, const char *context) {
  if (consume(k))
    return true;
  std::string found = at(TokenKind::Eof) ? "end of file" : "`" + tok().text + "`";
  return errorAtToken(std::string("expected ") + tokenKindName(k) + " " + context + ", found " +
                      found);
}

std::optional<Module> Parser::parseModule() {
  Module m;
  while (!at(TokenKind::Eof)) {
    bool ok;
    if (at(TokenKind::KwBlock))
      ok = parseBlockDef(m);
    else if (at(TokenKind::KwNetwork))
      ok = parseNetworkDef(m);
    else if (at(TokenKind::KwConst))
      ok = parseConstDef(m);
    else
      ok = errorAtToken("expected `network`, `block` or `const` at top level, found `" +
                        tok().text + "`");
    if (!ok || failed)
      return std::nullopt;
  }
  return m;
}

bool Parser::parseConstDef(Module &m) {
  take(); // const
  ConstDef def;
  def.range = tok().range;
  def.name = tok().text;
  if (!expect(TokenKind::Identifier, "after `const` (the constant's name)") ||
      !expect(TokenKind::Equal, "after the constant's name"))
    return false;
  def.value = parseExpr();
  if (!def.value)
    return false;
  m.constants.push_back(std::move(def));
  return true;
}

bool Parser::parseBlockDef(Module &m) {
  take(); // block
  BlockDef def;
  def.range = tok().range;
  def.name = tok().text;
  if (!expect(TokenKind::Identifier, "after `block` (the block's name)"))
    return false;
  if (!expect(TokenKind::LParen, "after the block's name"))
    return false;
  if (!at(TokenKind::RParen)) {
    do {
      if (at(TokenKind::RParen))
        break; // trailing comma
      BlockParam p;
      p.range = tok().range;
      p.name = tok().text;
      if (!expect(TokenKind::Identifier, "(a parameter name)"))
        return false;
      if (consume(TokenKind::Colon)) {
        p.typeRange = tok().range;
        p.type = tok().text;
        if (!expect(TokenKind::Identifier, "(a parameter type)"))
          return false;
        if (p.type != "int" && p.type != "float" && p.type != "bool" && p.type != "string" &&
            p.type != "list") {
          diags.error(p.typeRange, "unknown parameter type `" + p.type +
                                       "`; expected int, float, bool, string or list");
          failed = true;
          return false;
        }
      }
      if (consume(TokenKind::Equal)) {
        p.defaultValue = parseExpr();
        if (!p.defaultValue)
          return false;
      }
      def.params.push_back(std::move(p));
    } while (consume(TokenKind::Comma));
  }
  if (!expect(TokenKind::RParen, "to close the parameter list"))
    return false;
  if (!expect(TokenKind::LBrace, "to open the block's body"))
    return false;
  if (!parseItems(def.body, "in block body"))
    return false;
  m.blocks.push_back(std::move(def));
  return true;
}

bool Parser::parseNetworkDef(Module &m) {
  take(); // network
  NetworkDef def;
  def.range = tok().range;
  def.name = tok().text;
  if (!expect(TokenKind::Identifier, "after `network` (the network's name)"))
    return false;
  if (!expect(TokenKind::LBrace, "to open the network's body"))
    return false;
  if (!parseItems(def.body, "in network body"))
    return false;
  m.networks.push_back(std::move(def));
  return true;
}

/// Parses items up to and including the closing `}`.
bool Parser::parseItems(std::vector<ItemPtr> &items, const char *context) {
  DepthGuard guard(depth);
  if (depth > kMaxNesting)
    return errorAtToken("nesting is too deep");
  while (!at(TokenKind::RBrace)) {
    if (at(TokenKind::Eof))
      return errorAtToken(std::string("expected `}` ") + context + ", found end of file");
    ItemPtr item = parseItem();
    if (!item)
      return false;
    items.push_back(std::move(item));
  }
  take(); // }
  return true;
}

/// A label: a name, a keyword (torchvision names modules `block`) or a
/// quoted name for what is not an identifier (RegNet's `"block1-0"`),
/// followed by `:`.
bool Parser::atLabel() const {
  TokenKind k = tok().kind;
  return (k == TokenKind::Identifier || k == TokenKind::String || isKeyword(k)) &&
         peekTok().is(TokenKind::Colon);
}

bool Parser::checkQuotedName(const Token &name) {
  if (!name.is(TokenKind::String))
    return true;
  if (isNameComponent(name.text, true))
    return true;
  diags.error(name.range, "a quoted name must be non-empty, without dots, spaces or quotes "
                          "(it is one component of a state_dict name)");
  failed = true;
  return false;
}

ItemPtr Parser::parseItem() {
  if (atLabel()) {
    Token label = take();
    take(); // :
    if (!checkQuotedName(label))
      return nullptr;
    ItemPtr item = parseUnlabelledItem();
    if (!item)
      return nullptr;
    if (item->kind == Item::Kind::Ref || item->kind == Item::Kind::Output ||
        item->kind == Item::Kind::Input) {
      diags.error(label.range, "`" + label.text +
                                   ":` cannot label this item; "
                                   "labels name layers, blocks and groups");
      failed = true;
      return nullptr;
    }
    item->label = label.text;
    item->labelRange = label.range;
    item->range.begin = label.range.begin;
    return item;
  }
  return parseUnlabelledItem();
}

ItemPtr Parser::parseGroup(Item::Kind kind, SourceLoc begin) {
  auto item = std::make_unique<Item>();
  item->kind = kind;
  item->range.begin = begin;
  if (!expect(TokenKind::LBrace, "to open the group"))
    return nullptr;
  if (!parseItems(item->body, "to close the group"))
    return nullptr;
  item->range.end = tokens[index - 1].range.end;
  return item;
}

ItemPtr Parser::parseUnlabelledItem() {
  DepthGuard guard(depth);
  if (depth > kMaxNesting) {
    errorAtToken("nesting is too deep");
    return nullptr;
  }
  SourceLoc begin = tok().range.begin;
  auto item = std::make_unique<Item>();
  item->range = tok().range;
  switch (tok().kind) {
  case TokenKind::KwInput: {
    take();
    item->kind = Item::Kind::Input;
    item->nameRange = tok().range;
    item->name = tok().text;
    if (!expect(TokenKind::Identifier, "after `input` (the input's name)") ||
        !expect(TokenKind::Colon, "after the input's name"))
      return nullptr;
    if (!at(TokenKind::Dims) || tok().dims.size() != 3) {
      errorAtToken("expected the input's shape as CxHxW (e.g. `1x28x28`), found `" + tok().text +
                   "`");
      return nullptr;
    }
    item->dims = tok().dims;
    item->range.end = take().range.end;
    return item;
  }
  case TokenKind::KwOutput:
    take();
    item->kind = Item::Kind::Output;
    if (consume(TokenKind::KwAs)) {
      item->nameRange = tok().range;
      item->name = tok().text;
      if (!expect(TokenKind::Identifier, "after `output as`"))
        return nullptr;
    }
    item->range.end = tokens[index - 1].range.end;
    return item;
  case TokenKind::At:
    take();
    item->kind = Item::Kind::Ref;
    item->nameRange = tok().range;
    item->name = tok().text;
    // Any label can be referred to: a name, a keyword or a quoted name.
    if (at(TokenKind::String) || isKeyword(tok().kind)) {
      take();
    } else if (!expect(TokenKind::Identifier, "after `@` (a tensor name)")) {
      return nullptr;
    }
    item->range.end = item->nameRange.end;
    return item;
  case TokenKind::KwRepeat: {
    take();
    ExprPtr count = parseExpr();
    if (!count)
      return nullptr;
    std::string var;
    SourceRange varRange;
    if (consume(TokenKind::KwAs)) {
      varRange = tok().range;
      var = tok().text;
      if (!expect(TokenKind::Identifier, "after `as` (the loop variable)"))
        return nullptr;
    }
    ItemPtr group = parseGroup(Item::Kind::Repeat, begin);
    if (!group)
      return nullptr;
    group->count = std::move(count);
    group->loopVar = var;
    group->loopVarRange = varRange;
    return group;
  }
  case TokenKind::KwIf: {
    take();
    ExprPtr condition = parseExpr();
    if (!condition)
      return nullptr;
    ItemPtr branch = parseGroup(Item::Kind::If, begin);
    if (!branch)
      return nullptr;
    branch->count = std::move(condition);
    if (consume(TokenKind::KwElse)) {
      if (at(TokenKind::KwIf)) { // else if: the nested `if` is the else branch
        ItemPtr nested = parseUnlabelledItem();
        if (!nested)
          return nullptr;
        branch->elseBody.push_back(std::move(nested));
      } else {
        if (!expect(TokenKind::LBrace, "after `else`"))
          return nullptr;
        if (!parseItems(branch->elseBody, "to close the `else` group"))
          return nullptr;
      }
      branch->range.end = tokens[index - 1].range.end;
    }
    return branch;
  }
  case TokenKind::KwSeq:
    take();
    return parseGroup(Item::Kind::Seq, begin);
  case TokenKind::LBrace:
    return parseGroup(Item::Kind::Group, begin);
  case TokenKind::Identifier: {
    Token callee = take();
    item->kind = Item::Kind::Call;
    item->callee = callee.text;
    item->calleeRange = callee.range;
    if (consume(TokenKind::LParen) && !parseArgs(item->args))
      return nullptr;
    if (at(TokenKind::LBrace)) {
      // A merge: `concat { {..} {..} }`, branches optionally labelled.
      take();
      item->hasBranches = true;
      while (!at(TokenKind::RBrace)) {
        std::string label;
        SourceRange labelRange;
        if (atLabel()) {
          labelRange = tok().range;
          Token name = take();
          take();
          if (!checkQuotedName(name))
            return nullptr;
          label = name.text;
        }
        if (!at(TokenKind::LBrace)) {
          errorAtToken("expected `{` to open a branch of `" + callee.text + "`, found `" +
                       tok().text + "`");
          return nullptr;
        }
        ItemPtr branch = parseGroup(Item::Kind::Group, tok().range.begin);
        if (!branch)
          return nullptr;
        branch->label = label;
        branch->labelRange = labelRange;
        item->branches.push_back(std::move(branch));
      }
      take(); // }
    }
    item->range = {begin, tokens[index - 1].range.end};
    return item;
  }
  default: {
    std::string found = at(TokenKind::Eof) ? "end of file" : "`" + tok().text + "`";
    errorAtToken("expected a layer, block, `{`, `@name`, `repeat`, `if`, `seq`, `output` "
                 "or `input`, found " +
                 found);
    return nullptr;
  }
  }
}

bool Parser::parseArgs(std::vector<Arg> &args) {
  while (!at(TokenKind::RParen)) {
    Arg arg;
    if (at(TokenKind::Identifier) && peekTok().is(TokenKind::Colon)) {
      arg.nameRange = tok().range;
      arg.name = take().text;
      take();
    }
    arg.value = parseExpr();
    if (!arg.value)
      return false;
    args.push_back(std::move(arg));
    if (!consume(TokenKind::Comma))
      break;
  }
  return expect(TokenKind::RParen, "to close the argument list");
}

/// `e` with its height set, or null (and an error at it) past the limit.
ExprPtr Parser::boundedHeight(ExprPtr e) {
  e->setHeightFromOperands();
  if (e->height <= kMaxExpressionHeight)
    return e;
  diags.error(e->range, "expression is too long: its operators are more than " +
                            std::to_string(kMaxExpressionHeight) +
                            " levels deep (split it into `const` values)");
  failed = true;
  return nullptr;
}

ExprPtr Parser::parseExpr() {
  DepthGuard guard(depth);
  if (depth > kMaxNesting) {
    errorAtToken("expression is nested too deeply");
    return nullptr;
  }
  ExprPtr cond = parseBinary(0);
  if (!cond || !at(TokenKind::Question))
    return cond;
  take();
  ExprPtr thenE = parseExpr();
  if (!thenE || !expect(TokenKind::Colon, "in conditional expression `c ? a : b`"))
    return nullptr;
  ExprPtr elseE = parseExpr();
  if (!elseE)
    return nullptr;
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::Cond;
  e->range = {cond->range.begin, elseE->range.end};
  e->operands.push_back(std::move(cond));
  e->operands.push_back(std::move(thenE));
  e->operands.push_back(std::move(elseE));
  return boundedHeight(std::move(e));
}

static int precedence(TokenKind k) {
  switch (k) {
  case TokenKind::PipePipe:
    return 1;
  case TokenKind::AmpAmp:
    return 2;
  case TokenKind::EqualEqual:
  case TokenKind::BangEqual:
    return 3;
  case TokenKind::Less:
  case TokenKind::LessEqual:
  case TokenKind::Greater:
  case TokenKind::GreaterEqual:
    return 4;
  case TokenKind::Plus:
  case TokenKind::Minus:
    return 5;
  case TokenKind::Star:
  case TokenKind::Slash:
  case TokenKind::Percent:
    return 6;
  default:
    return -1;
  }
}

ExprPtr Parser::parseBinary(int minPrecedence) {
  ExprPtr lhs = parseUnary();
  while (lhs) {
    int prec = precedence(tok().kind);
    if (prec < 0 || prec < minPrecedence)
      break;
    Token op = take();
    ExprPtr rhs = parseBinary(prec + 1);
    if (!rhs)
      return nullptr;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::Binary;
    e->text = op.text;
    e->range = {lhs->range.begin, rhs->range.end};
    e->operands.push_back(std::move(lhs));
    e->operands.push_back(std::move(rhs));
    lhs = boundedHeight(std::move(e));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (at(TokenKind::Minus) || at(TokenKind::Bang)) {
    DepthGuard guard(depth);
    if (depth > kMaxNesting) {
      errorAtToken("expression is nested too deeply");
      return nullptr;
    }
    Token op = take();
    ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::Unary;
    e->text = op.text;
    e->range = {op.range.begin, operand->range.end};
    e->operands.push_back(std::move(operand));
    return boundedHeight(std::move(e));
  }
  return parsePrimary();
}

ExprPtr Parser::parsePrimary() {
  auto e = std::make_unique<Expr>();
  e->range = tok().range;
  switch (tok().kind) {
  case TokenKind::Integer:
    e->kind = Expr::Kind::Int;
    e->intValue = take().intValue;
    return e;
  case TokenKind::Float:
    e->kind = Expr::Kind::Float;
    e->floatValue = take().floatValue;
    return e;
  case TokenKind::String:
    e->kind = Expr::Kind::String;
    e->text = take().text;
    return e;
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
    e->kind = Expr::Kind::Bool;
    e->boolValue = take().is(TokenKind::KwTrue);
    return e;
  case TokenKind::Identifier:
    e->kind = Expr::Kind::Ident;
    e->text = take().text;
    return e;
  case TokenKind::Dims:
    e->kind = Expr::Kind::Dims;
    e->dims = tok().dims;
    e->text = take().text;
    return e;
  case TokenKind::LParen: {
    take();
    ExprPtr inner = parseExpr();
    if (!inner || !expect(TokenKind::RParen, "to close `(`"))
      return nullptr;
    return inner;
  }
  case TokenKind::LBracket: {
    take();
    e->kind = Expr::Kind::List;
    while (!at(TokenKind::RBracket)) {
      ExprPtr elt = parseExpr();
      if (!elt)
        return nullptr;
      e->operands.push_back(std::move(elt));
      if (!consume(TokenKind::Comma))
        break;
    }
    e->range.end = tok().range.end;
    if (!expect(TokenKind::RBracket, "to close the list"))
      return nullptr;
    return boundedHeight(std::move(e));
  }
  default: {
    std::string found = at(TokenKind::Eof) ? "end of file" : "`" + tok().text + "`";
    errorAtToken("expected a value, found " + found);
    return nullptr;
  }
  }
}

std::optional<Module> parseSource(std::string_view source, DiagnosticEngine &diags) {
  Parser parser(source, diags);
  return parser.parseModule();
}

} // namespace cnnc
