//===- DimsString.h - Tensor dimensions as text ----------------*- C++ -*-===//
//
// "CxHxW": how reports, diagnostics and the plan dump spell a shape.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_ARITHMETIC_DIMSSTRING_H
#define CNNC_ARITHMETIC_DIMSSTRING_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace cnnc {

/// `count` dimensions joined by 'x' ("16x28x28").
inline std::string dimsString(const int64_t *dims, size_t count) {
  std::string s;
  for (size_t i = 0; i < count; ++i)
    s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

} // namespace cnnc

#endif // CNNC_ARITHMETIC_DIMSSTRING_H
