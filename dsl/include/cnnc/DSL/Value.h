//===- Value.h - Values of .cnn expressions --------------------*- C++ -*-===//
//
// What an expression evaluates to during elaboration: integers, floats,
// booleans, strings, symbols (bare keywords such as `same` or `reflect`) and
// lists. Layer attributes in the elaborated graph are Values too.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_VALUE_H
#define CNNC_DSL_VALUE_H

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc {

struct Value {
  enum class Kind { Int, Float, Bool, String, Symbol, List };
  Kind kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<Value> list;

  static Value integer(int64_t v) {
    Value x;
    x.kind = Kind::Int;
    x.i = v;
    return x;
  }
  static Value real(double v) {
    Value x;
    x.kind = Kind::Float;
    x.f = v;
    return x;
  }
  static Value boolean(bool v) {
    Value x;
    x.kind = Kind::Bool;
    x.b = v;
    return x;
  }
  static Value string(std::string v) {
    Value x;
    x.kind = Kind::String;
    x.s = std::move(v);
    return x;
  }
  static Value symbol(std::string v) {
    Value x;
    x.kind = Kind::Symbol;
    x.s = std::move(v);
    return x;
  }
  static Value ints(const std::vector<int64_t> &v);
  static Value makeList(std::vector<Value> v) {
    Value x;
    x.kind = Kind::List;
    x.list = std::move(v);
    return x;
  }

  bool isInt() const { return kind == Kind::Int; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
  /// The list's elements as integers; the caller has checked they are.
  std::vector<int64_t> asInts() const;
  bool isIntList() const;

  /// How the value reads in source syntax: `3`, `0.5`, `"x"`, `[1, 2]`.
  std::string str() const;
  /// The kind in words, for type errors: "an integer", "a list", ...
  std::string kindName() const;
};

} // namespace cnnc

#endif // CNNC_DSL_VALUE_H
