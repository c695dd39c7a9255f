//===- ASTPrinter.cpp - `cnnc --emit=ast` ---------------------------------===//
//
// Prints the AST as an indented tree with source locations, the way the user
// wrote it: blocks are not instantiated and expressions are not evaluated.
//
//===----------------------------------------------------------------------===//
#include "cnnc/DSL/AST.h"

namespace cnnc {

namespace {
std::string at(SourceRange r) {
  return " @" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col);
}

void printItems(std::ostream &os, const std::vector<ItemPtr> &items, int indent);

void printItem(std::ostream &os, const Item &it, int indent) {
  std::string pad(indent * 2, ' ');
  os << pad;
  if (!it.label.empty())
    os << it.label << ": ";
  switch (it.kind) {
  case Item::Kind::Input:
    os << "Input " << it.name << " " << it.dims[0] << "x" << it.dims[1] << "x" << it.dims[2]
       << at(it.range) << "\n";
    return;
  case Item::Kind::Output:
    os << "Output" << (it.name.empty() ? "" : " as " + it.name) << at(it.range) << "\n";
    return;
  case Item::Kind::Ref:
    os << "Ref @" << it.name << at(it.range) << "\n";
    return;
  case Item::Kind::Call:
    os << "Call " << it.callee << "(";
    for (size_t i = 0; i < it.args.size(); ++i) {
      os << (i ? ", " : "");
      if (!it.args[i].name.empty())
        os << it.args[i].name << ": ";
      printExpr(os, *it.args[i].value);
    }
    os << ")" << at(it.range) << "\n";
    for (const ItemPtr &b : it.branches)
      printItem(os, *b, indent + 1);
    return;
  case Item::Kind::Group:
    os << "Group" << at(it.range) << "\n";
    break;
  case Item::Kind::Seq:
    os << "Seq" << at(it.range) << "\n";
    break;
  case Item::Kind::If:
    os << "If ";
    printExpr(os, *it.count);
    os << at(it.range) << "\n";
    printItems(os, it.body, indent + 1);
    if (!it.elseBody.empty()) {
      os << pad << "Else\n";
      printItems(os, it.elseBody, indent + 1);
    }
    return;
  case Item::Kind::Repeat:
    os << "Repeat ";
    printExpr(os, *it.count);
    if (!it.loopVar.empty())
      os << " as " << it.loopVar;
    os << at(it.range) << "\n";
    break;
  }
  printItems(os, it.body, indent + 1);
}

void printItems(std::ostream &os, const std::vector<ItemPtr> &items, int indent) {
  for (const ItemPtr &it : items)
    printItem(os, *it, indent);
}
} // namespace

void printExpr(std::ostream &os, const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Int:
    os << e.intValue;
    return;
  case Expr::Kind::Float:
    os << e.floatValue;
    return;
  case Expr::Kind::Bool:
    os << (e.boolValue ? "true" : "false");
    return;
  case Expr::Kind::String:
    os << '"' << e.text << '"';
    return;
  case Expr::Kind::Ident:
    os << e.text;
    return;
  case Expr::Kind::Dims:
    os << e.text;
    return;
  case Expr::Kind::List:
    os << "[";
    for (size_t i = 0; i < e.operands.size(); ++i) {
      os << (i ? ", " : "");
      printExpr(os, *e.operands[i]);
    }
    os << "]";
    return;
  case Expr::Kind::Unary:
    os << e.text;
    printExpr(os, *e.operands[0]);
    return;
  case Expr::Kind::Binary:
    os << "(";
    printExpr(os, *e.operands[0]);
    os << " " << e.text << " ";
    printExpr(os, *e.operands[1]);
    os << ")";
    return;
  case Expr::Kind::Cond:
    os << "(";
    printExpr(os, *e.operands[0]);
    os << " ? ";
    printExpr(os, *e.operands[1]);
    os << " : ";
    printExpr(os, *e.operands[2]);
    os << ")";
    return;
  }
}

void printAST(std::ostream &os, const Module &module) {
  for (const ConstDef &c : module.constants) {
    os << "Const " << c.name << " = ";
    printExpr(os, *c.value);
    os << at(c.range) << "\n";
  }
  for (const BlockDef &b : module.blocks) {
    os << "Block " << b.name << "(";
    for (size_t i = 0; i < b.params.size(); ++i) {
      const BlockParam &p = b.params[i];
      os << (i ? ", " : "") << p.name;
      if (!p.type.empty())
        os << ": " << p.type;
      if (p.defaultValue) {
        os << " = ";
        printExpr(os, *p.defaultValue);
      }
    }
    os << ")" << at(b.range) << "\n";
    printItems(os, b.body, 1);
  }
  for (const NetworkDef &n : module.networks) {
    os << "Network " << n.name << at(n.range) << "\n";
    printItems(os, n.body, 1);
  }
}

} // namespace cnnc
