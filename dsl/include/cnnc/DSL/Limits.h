//===- Limits.h - The largest sizes a network may have -----------*- C++ -*-===//
//
// Generated code indexes its buffers with 32-bit integers, as Halide does:
// every integer a layer is given (channels, kernel, stride, padding, ...),
// every input dimension, and the number of values of every tensor (per
// sample for activations, whole for parameters) must fit in one. The
// frontend checks the first two, shape inference the third, each with the
// location of the layer; with all three in bounds no shape, parameter or
// MAC count of one layer overflows 64 bits (docs/language.md, "Limits").
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_DSL_LIMITS_H
#define CNNC_DSL_LIMITS_H

#include <cstdint>

namespace cnnc {

/// 2^31 - 1.
constexpr int64_t kMaxSize = 2147483647;

} // namespace cnnc

#endif // CNNC_DSL_LIMITS_H
