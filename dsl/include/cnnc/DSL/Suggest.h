//===- Suggest.h - "did you mean" suggestions ------------------*- C++ -*-===//
#ifndef CNNC_DSL_SUGGEST_H
#define CNNC_DSL_SUGGEST_H

#include <string>
#include <vector>

namespace cnnc {

/// Levenshtein distance between two names.
size_t editDistance(const std::string &a, const std::string &b);

/// The candidate closest to `name`, if it is close enough to be a likely typo
/// (distance at most a third of the longer name, at least 1); else "".
std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates);

/// "; did you mean `x`?" or "" when nothing is close.
std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates);

} // namespace cnnc

#endif // CNNC_DSL_SUGGEST_H
