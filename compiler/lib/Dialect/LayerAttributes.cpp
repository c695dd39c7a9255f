//===- LayerAttributes.cpp - Layer parameters as op attributes ------------===//
#include "cnnc/Dialect/CNN/LayerAttributes.h"
#include "cnnc/Dialect/CNN/CNNDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace cnnc::cnn {

Attribute paramAttribute(Builder &b, const ParamSpec &p, const cnnc::Value &v) {
  switch (p.type) {
  case ParamType::Int:
    return b.getI64IntegerAttr(v.i);
  case ParamType::Float:
    return b.getF64FloatAttr(v.asDouble());
  case ParamType::Bool:
    return b.getBoolAttr(v.b);
  case ParamType::IntPair:
    return b.getI64ArrayAttr(v.asInts());
  case ParamType::FloatPair: {
    SmallVector<double, 2> values;
    for (const cnnc::Value &e : v.list)
      values.push_back(e.asDouble());
    return b.getF64ArrayAttr(values);
  }
  case ParamType::Padding:
    if (v.kind == cnnc::Value::Kind::Symbol) // `same`, resolved by shape inference
      return b.getStringAttr(v.s);
    return b.getI64ArrayAttr(v.asInts());
  case ParamType::Enum:
    return b.getStringAttr(v.s);
  case ParamType::Table: {
    SmallVector<Attribute, 16> rows;
    for (const cnnc::Value &row : v.list)
      rows.push_back(b.getI64ArrayAttr(row.asInts()));
    return b.getArrayAttr(rows);
  }
  }
  return {};
}

SmallVector<NamedAttribute, 8> layerAttributes(Builder &b, const LayerSpec &spec,
                                               const std::map<std::string, cnnc::Value> &given) {
  SmallVector<NamedAttribute, 8> attrs;
  std::map<std::string, cnnc::Value> values = given;
  for (const ParamSpec &p : spec.params) {
    if (!values.count(p.name))
      if (std::optional<cnnc::Value> v = defaultOf(p, values))
        values[p.name] = *v;
    auto it = values.find(p.name);
    if (p.role == ParamRole::Attribute && it != values.end())
      attrs.push_back(b.getNamedAttr(p.name, paramAttribute(b, p, it->second)));
  }
  return attrs;
}

namespace {

/// The integers of an array of integer attributes, or nullopt.
std::optional<std::vector<int64_t>> intsOf(Attribute attr, std::optional<size_t> count) {
  auto array = attr.dyn_cast<ArrayAttr>();
  if (!array || (count && array.size() != *count))
    return std::nullopt;
  std::vector<int64_t> ints;
  for (Attribute e : array) {
    auto i = e.dyn_cast<IntegerAttr>();
    if (!i)
      return std::nullopt;
    ints.push_back(i.getInt());
  }
  return ints;
}

/// The attribute as the parameter's value, or nullopt when it has another
/// type; `expected` says what it should be.
std::optional<cnnc::Value> valueOf(const ParamSpec &p, Attribute attr, std::string &expected) {
  switch (p.type) {
  case ParamType::Int:
    expected = "an integer";
    if (auto i = attr.dyn_cast<IntegerAttr>())
      return cnnc::Value::integer(i.getInt());
    return std::nullopt;
  case ParamType::Float:
    expected = "a float";
    if (auto f = attr.dyn_cast<FloatAttr>())
      return cnnc::Value::real(f.getValueAsDouble());
    return std::nullopt;
  case ParamType::Bool:
    expected = "a boolean";
    if (auto f = attr.dyn_cast<BoolAttr>())
      return cnnc::Value::boolean(f.getValue());
    return std::nullopt;
  case ParamType::IntPair:
    expected = "2 integers";
    if (auto ints = intsOf(attr, 2))
      return cnnc::Value::ints(*ints);
    return std::nullopt;
  case ParamType::Padding:
    expected = "4 integers or \"same\"";
    if (auto s = attr.dyn_cast<StringAttr>())
      return s.getValue() == "same" ? std::optional(cnnc::Value::symbol("same")) : std::nullopt;
    if (auto ints = intsOf(attr, 4))
      return cnnc::Value::ints(*ints);
    return std::nullopt;
  case ParamType::FloatPair: {
    expected = "2 floats";
    auto array = attr.dyn_cast<ArrayAttr>();
    if (!array || array.size() != 2)
      return std::nullopt;
    std::vector<cnnc::Value> values;
    for (Attribute e : array) {
      auto f = e.dyn_cast<FloatAttr>();
      if (!f)
        return std::nullopt;
      values.push_back(cnnc::Value::real(f.getValueAsDouble()));
    }
    return cnnc::Value::makeList(values);
  }
  case ParamType::Enum: {
    expected = "one of";
    for (const std::string &c : p.choices)
      expected += (&c == &p.choices.front() ? " " : ", ") + c;
    auto s = attr.dyn_cast<StringAttr>();
    if (!s)
      return std::nullopt;
    for (const std::string &c : p.choices)
      if (s.getValue() == c)
        return cnnc::Value::symbol(c);
    return std::nullopt;
  }
  case ParamType::Table: {
    expected = "a list of non-empty lists of channel indices";
    auto rows = attr.dyn_cast<ArrayAttr>();
    if (!rows)
      return std::nullopt;
    std::vector<cnnc::Value> values;
    for (Attribute row : rows) {
      auto ints = intsOf(row, std::nullopt);
      if (!ints || ints->empty())
        return std::nullopt;
      values.push_back(cnnc::Value::ints(*ints));
    }
    return cnnc::Value::makeList(values);
  }
  }
  return std::nullopt;
}

bool isList(ParamType t) {
  return t == ParamType::IntPair || t == ParamType::Padding || t == ParamType::Table;
}

} // namespace

LogicalResult verifyLayerAttributes(Operation *op) {
  std::optional<LayerKind> kind = layerKindOf(op);
  if (!kind)
    return success();
  const LayerSpec &spec = layerSpecFor(*kind);
  std::map<std::string, cnnc::Value> values;
  for (const ParamSpec &p : spec.params) {
    if (p.role != ParamRole::Attribute)
      continue;
    Attribute attr = op->getAttr(p.name);
    if (!attr) {
      if (p.optional)
        continue;
      return op->emitOpError() << "needs the attribute `" << p.name << "` (" << p.doc << ")";
    }
    std::string expected;
    std::optional<cnnc::Value> v = valueOf(p, attr, expected);
    if (!v)
      return op->emitOpError() << "`" << p.name << "` must be " << expected << ", got " << attr;
    if (std::optional<std::string> why = boundsViolation(p, *v))
      return op->emitOpError() << "`" << p.name << "`" << (isList(p.type) ? " entries " : " ")
                               << *why;
    values[p.name] = *v;
  }
  if (auto bad = orderViolation(spec, values))
    return op->emitOpError() << "`" << bad->first->name << "` " << bad->second;
  return success();
}

} // namespace cnnc::cnn
