//===- Suggest.cpp - "did you mean" suggestions ---------------------------===//
#include "cnnc/DSL/Suggest.h"

#include <algorithm>

namespace cnnc {

// Optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of neighbours (`stme` is one edit from `stem`).
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestDist = ~size_t(0);
  for (const std::string &c : candidates) {
    size_t d = editDistance(name, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(1, std::max(name.size(), best.size()) / 3);
  return bestDist <= limit ? best : "";
}

std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates) {
  std::string m = closestMatch(name, candidates);
  return m.empty() ? "" : "; did you mean `" + m + "`?";
}

} // namespace cnnc
