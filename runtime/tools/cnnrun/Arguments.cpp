//===- Arguments.cpp - cnnrun's checks of what the command line asks for --===//
//
// Option values are checked where they are read, with the option's name in
// the message: a value that is not a number, is out of range, or asks for
// more memory than the machine has stops the command before any work.
//
//===----------------------------------------------------------------------===//
#include "Api.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace cnnrun {

int64_t parseWholeNumber(const std::string &text, const std::string &option, int64_t low,
                         int64_t high) {
  auto fail = [&] {
    return Failed{option + ": '" + text + "' is not a whole number in [" + std::to_string(low) +
                  ", " + std::to_string(high) + "]"};
  };
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw fail();
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno == ERANGE || *end || value < low || value > high)
    throw fail();
  return value;
}

CLI::Validator wholeNumberIn(int64_t low, int64_t high) {
  return CLI::Validator(
      [low, high](std::string &text) -> std::string {
        try {
          parseWholeNumber(text, "", low, high);
        } catch (const Failed &) {
          return "'" + text + "' is not a whole number in [" + std::to_string(low) + ", " +
                 std::to_string(high) + "]";
        }
        return "";
      },
      "INT in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
}

CLI::Validator finiteAtLeast(double low) {
  char bound[32];
  std::snprintf(bound, sizeof bound, "%g", low);
  return CLI::Validator(
      [low, bound = std::string(bound)](std::string &text) -> std::string {
        errno = 0;
        char *end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end || errno == ERANGE || !std::isfinite(value) || value < low)
          return "'" + text + "' is not a finite number >= " + bound;
        return "";
      },
      std::string("NUMBER >= ") + bound);
}

std::vector<float> batchBuffer(int64_t batch, int64_t perSample, const std::string &what) {
  int64_t count = 0;
  bool overflow = __builtin_mul_overflow(batch, perSample, &count) ||
                  static_cast<uint64_t>(count) > SIZE_MAX / sizeof(float);
  try {
    if (!overflow)
      return std::vector<float>(static_cast<size_t>(count));
  } catch (const std::bad_alloc &) {
  }
  char size[32];
  std::snprintf(size, sizeof size, "%.3g GiB",
                static_cast<double>(batch) * static_cast<double>(perSample) * sizeof(float) /
                    (1024.0 * 1024.0 * 1024.0));
  throw Failed{"out of memory: a batch of " + std::to_string(batch) + " needs " + size + " for " +
               what + ": choose a smaller batch"};
}

} // namespace cnnrun
