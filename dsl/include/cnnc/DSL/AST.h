//===- AST.h - Abstract syntax tree of the .cnn language -------*- C++ -*-===//
//
// The AST is what the parser read, before any block is instantiated or any
// expression evaluated: block definitions with their parameters, and network
// bodies made of items. Every node keeps its source range so that later stages
// (elaboration, shape inference) point at the user's text.
//
// An item is one step of a chain:
//   Call    `conv(16, kernel: 5)`, `relu`, `inception(64, ...)`, and merges
//           with branches `concat { {...} {...} }`
//   Group   `{ items }` (a concat/add branch, or a labelled scope)
//   Seq     `seq { items }`: children named by position, like nn.Sequential
//   Repeat  `repeat N [as i] { items }`
//   If      `if cond { items } [else { items }]` (`else if` nests)
//   Ref     `@name`: continue from a named tensor
//   Output  `output [name]`: mark the current tensor as a network output
//   Input   `input name: CxHxW` (network bodies only)
// Any item may carry a label `name: item`.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_AST_H
#define CNNC_DSL_AST_H

#include "cnnc/DSL/Diagnostics.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace cnnc {

/// An expression: literals, names (block parameters, loop variables, bare
/// keywords such as `same`), lists, and integer/float/bool arithmetic.
struct Expr {
  enum class Kind { Int, Float, Bool, String, Ident, List, Dims, Unary, Binary, Cond };
  Kind kind;
  SourceRange range;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string text;                            // Ident, String, operator spelling
  std::vector<int64_t> dims;                   // Dims
  std::vector<std::unique_ptr<Expr>> operands; // List elements, Unary/Binary/Cond
  /// Levels of the tree from here down (a leaf is 1). The parser bounds it,
  /// so that every recursive walk of an expression has a bounded stack.
  unsigned height = 1;
  void setHeightFromOperands() {
    for (const auto &o : operands)
      height = std::max(height, o->height + 1);
  }
};
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument, positional (empty name) or keyword.
struct Arg {
  std::string name;
  SourceRange nameRange;
  ExprPtr value;
};

struct Item;
using ItemPtr = std::unique_ptr<Item>;

/// Whether `text` can be one component of a state_dict name, as a quoted
/// label is: non-empty, printable, no dots, spaces or quotes. The parser
/// checks a label as written (`braces`: its `{name}` placeholders allowed),
/// the elaborator its expansion (no braces left).
inline bool isNameComponent(const std::string &text, bool braces) {
  bool ok = !text.empty();
  for (char c : text)
    ok &= c > ' ' && c != '.' && c != '"' && c < 127 && (braces || (c != '{' && c != '}'));
  return ok;
}

struct Item {
  enum class Kind { Call, Group, Seq, Repeat, If, Ref, Output, Input };
  Kind kind;
  SourceRange range; // the whole item
  std::string label; // `label: item`, empty if none
  SourceRange labelRange;

  // Call: callee name, arguments, and for merges the branches (Group items).
  std::string callee;
  SourceRange calleeRange;
  std::vector<Arg> args;
  bool hasBranches = false;
  std::vector<ItemPtr> branches;

  // Group, Seq, Repeat, If: the body (If: when the condition holds).
  std::vector<ItemPtr> body;
  // If: the condition (in `count`) and the items when it does not hold.
  std::vector<ItemPtr> elseBody;
  // Repeat: the count and optional loop variable.
  ExprPtr count;
  std::string loopVar;
  SourceRange loopVarRange;

  // Ref / Output / Input: the tensor name (Output: optional).
  std::string name;
  SourceRange nameRange;
  // Input: C, H, W.
  std::vector<int64_t> dims;
};

struct BlockParam {
  std::string name;
  SourceRange range;
  std::string type; // "", "int", "float", "bool", "string", "list"
  SourceRange typeRange;
  ExprPtr defaultValue;
};

struct BlockDef {
  std::string name;
  SourceRange range; // the name
  std::vector<BlockParam> params;
  std::vector<ItemPtr> body;
};

struct NetworkDef {
  std::string name;
  SourceRange range; // the name
  std::vector<ItemPtr> body;
};

/// `const name = expr` at file level: visible in every block and network
/// (a block parameter of the same name hides it).
struct ConstDef {
  std::string name;
  SourceRange range; // the name
  ExprPtr value;
};

struct Module {
  std::vector<ConstDef> constants; // in file order
  std::vector<BlockDef> blocks;
  std::vector<NetworkDef> networks;
};

/// Prints the AST as an indented tree (`cnnc --emit=ast`).
void printAST(std::ostream &os, const Module &module);
/// Prints an expression in source syntax.
void printExpr(std::ostream &os, const Expr &expr);

} // namespace cnnc

#endif // CNNC_DSL_AST_H
