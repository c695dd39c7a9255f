//===- Value.cpp - Values of .cnn expressions -----------------------------===//
#include "cnnc/DSL/Value.h"

#include <sstream>

namespace cnnc {

Value Value::ints(const std::vector<int64_t> &v) {
  Value x;
  x.kind = Kind::List;
  for (int64_t e : v)
    x.list.push_back(integer(e));
  return x;
}

std::vector<int64_t> Value::asInts() const {
  std::vector<int64_t> out;
  for (const Value &e : list)
    out.push_back(e.i);
  return out;
}

bool Value::isIntList() const {
  if (kind != Kind::List)
    return false;
  for (const Value &e : list)
    if (!e.isInt())
      return false;
  return true;
}

std::string Value::str() const {
  switch (kind) {
  case Kind::Int:
    return std::to_string(i);
  case Kind::Float: {
    std::ostringstream os;
    os << f;
    std::string s = os.str();
    if (s.find_first_of(".en") == std::string::npos)
      s += ".0";
    return s;
  }
  case Kind::Bool:
    return b ? "true" : "false";
  case Kind::String:
    return "\"" + s + "\"";
  case Kind::Symbol:
    return s;
  case Kind::List: {
    std::string out = "[";
    for (size_t k = 0; k < list.size(); ++k)
      out += (k ? ", " : "") + list[k].str();
    return out + "]";
  }
  }
  return "";
}

std::string Value::kindName() const {
  switch (kind) {
  case Kind::Int:
    return "an integer";
  case Kind::Float:
    return "a number";
  case Kind::Bool:
    return "a boolean";
  case Kind::String:
    return "a string";
  case Kind::Symbol:
    return "the name `" + s + "`";
  case Kind::List:
    return "a list";
  }
  return "a value";
}

} // namespace cnnc
