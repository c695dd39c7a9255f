//===- Profile.cpp - CNNC_PROFILE's report of where the time went ----------===//
//
// Printed to stderr when a context with CNNC_PROFILE=1 is destroyed: the
// forward pass step by step (in order), and for the training step the time
// of each phase and its most expensive generated steps (docs/runtime-api.md).
//
//===----------------------------------------------------------------------===//
#include "ModelContext.h"

#include <algorithm>
#include <map>
#include <string>

using namespace cnnc::rt;

namespace {

/// A generated function's kind: its name without the "cnnc_" prefix and
/// the "_N" suffix (cnnc_conv_grad_weight_3 -> conv_grad_weight).
std::string stepKind(const std::string &function) {
  std::string kind = function.compare(0, 5, "cnnc_") == 0 ? function.substr(5) : function;
  size_t end = kind.find_last_not_of("0123456789");
  if (end != std::string::npos && end + 1 < kind.size() && kind[end] == '_')
    kind.resize(end);
  return kind;
}

double sum(const std::vector<double> &v) {
  double total = 0;
  for (double t : v)
    total += t;
  return total;
}

} // namespace

void cnnc_model::printProfiles() const {
  const cnnc_model_desc &d = desc();
  if (profiledCalls > 0) {
    double total = sum(stepSeconds);
    std::fprintf(stderr, "cnnc profile of %s: %lld forward calls, %.3f ms per call\n", d.name,
                 static_cast<long long>(profiledCalls), 1e3 * total / profiledCalls);
    for (int s = 0; s < d.num_steps; ++s)
      std::fprintf(stderr, "  %8.3f ms %5.1f %%  %s  [%s]\n", 1e3 * stepSeconds[s] / profiledCalls,
                   100 * stepSeconds[s] / total, d.steps[s].function, d.steps[s].layers);
  }
  if (profiledTrainSteps == 0)
    return;
  const char *phases[3] = {"prepare", "forward", "backward"};
  const cnnc_step_desc *lists[3] = {d.train_prepare, d.train_forward, d.backward};
  double phase[3], total = runtimeSeconds;
  for (int l = 0; l < 3; ++l)
    total += phase[l] = sum(trainSeconds[l]);
  double n = static_cast<double>(profiledTrainSteps);
  std::fprintf(stderr,
               "cnnc training profile of %s: %lld steps, %.3f ms per step: prepare %.1f %%, "
               "forward %.1f %%, loss + statistics + optimizer %.1f %%, backward %.1f %%\n",
               d.name, static_cast<long long>(profiledTrainSteps), 1e3 * total / n,
               100 * phase[0] / total, 100 * phase[1] / total, 100 * runtimeSeconds / total,
               100 * phase[2] / total);
  struct Entry {
    double seconds;
    int list, step;
  };
  std::vector<Entry> entries;
  std::map<std::string, double> byKind;
  for (int l = 0; l < 3; ++l)
    for (size_t s = 0; s < trainSeconds[l].size(); ++s) {
      entries.push_back({trainSeconds[l][s], l, static_cast<int>(s)});
      byKind[stepKind(lists[l][s].function)] += trainSeconds[l][s];
    }
  std::vector<std::pair<double, std::string>> kinds;
  for (const auto &[kind, seconds] : byKind)
    kinds.push_back({seconds, kind});
  std::sort(kinds.rbegin(), kinds.rend());
  std::fprintf(stderr, "  by kind of generated step:\n");
  for (const auto &[seconds, kind] : kinds)
    std::fprintf(stderr, "  %8.3f ms %5.1f %%  %s\n", 1e3 * seconds / n, 100 * seconds / total,
                 kind.c_str());
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.seconds > b.seconds; });
  if (entries.size() > 25)
    entries.resize(25);
  std::fprintf(stderr, "  the %zu most expensive generated steps:\n", entries.size());
  for (const Entry &e : entries) {
    const cnnc_step_desc &step = lists[e.list][e.step];
    std::fprintf(stderr, "  %8.3f ms %5.1f %%  %-8s %s  [%s]\n", 1e3 * e.seconds / n,
                 100 * e.seconds / total, phases[e.list], step.function, step.layers);
  }
}
