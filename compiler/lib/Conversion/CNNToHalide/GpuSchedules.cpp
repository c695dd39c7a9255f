//===- GpuSchedules.cpp - GPU schedules of the step pipelines -------------===//
#include "GpuSchedules.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

using namespace Halide;
using namespace Halide::Internal;

namespace cnnc::halide {
namespace {

/// Whether every call to `callee` in the expressions visited reads it at
/// `vars`, the caller's own pure coordinates, and how many calls there are.
class PointwiseCalls : public IRVisitor {
public:
  PointwiseCalls(std::string callee, std::vector<std::string> vars)
      : callee(std::move(callee)), vars(std::move(vars)) {}
  bool pointwise = true;
  int calls = 0;

private:
  std::string callee;
  std::vector<std::string> vars;
  using IRVisitor::visit;
  void visit(const Call *op) override {
    if (op->call_type == Call::Halide && op->name == callee) {
      ++calls;
      pointwise = pointwise && op->args.size() == vars.size();
      for (size_t i = 0; pointwise && i < vars.size(); ++i) {
        const Variable *v = op->args[i].as<Variable>();
        pointwise = v && v->name == vars[i];
      }
    }
    IRVisitor::visit(op);
  }
};

int powerOfTwoAtLeast(int64_t v) {
  int p = 1;
  while (p < v && p < 256)
    p *= 2;
  return p;
}

/// The threads of a block along a stage's first two pure dimensions: up to
/// 32 along the first (channels, contiguous: a warp reads them at once),
/// the rest of 256 along the second.
std::pair<int, int> threadTile(const std::vector<std::string> &pure, const plan::Shape &hint,
                               int channels, int pixels) {
  auto extentHint = [&](const std::string &name, int fallback) -> int64_t {
    if (name == "c" && hint.c > 0)
      return (hint.c + channels - 1) / channels;
    if (name == "x" && hint.c > 0)
      return (hint.w + pixels - 1) / pixels;
    return fallback;
  };
  int t0 = std::min(32, powerOfTwoAtLeast(extentHint(pure[0], 32)));
  int t1 = pure.size() > 1 ? std::min(256 / t0, powerOfTwoAtLeast(extentHint(pure[1], 8))) : 1;
  return {t0, t1};
}

/// The outputs each thread of a stage whose reductions run per thread
/// computes: `channels` consecutive channels (one vector load of filters)
/// times `pixels` along x (each filter value serves that many
/// multiply-adds). CNNC_GPU_TILE=CxP overrides the default for measuring
/// others (compile with --no-cache: the object cache does not key on it).
struct RegisterTile {
  int channels = 1, pixels = 4;
};

RegisterTile registerTile() {
  RegisterTile t;
  if (const char *env = std::getenv("CNNC_GPU_TILE")) {
    int c = 0, p = 0;
    if (std::sscanf(env, "%dx%d", &c, &p) == 2 && c >= 1 && c <= 8 && p >= 1 && p <= 8)
      t = {c, p};
  }
  return t;
}

/// Makes `stage` a kernel over its pure dimensions `pure` (innermost
/// first); returns the innermost thread variable, undefined where the
/// stage has no pure dimension (it runs on one GPU thread). Each thread
/// computes a `tile` of the first two dimensions.
template <typename S>
std::optional<Var> gpuKernel(S stage, const std::vector<std::string> &pure, const plan::Shape &hint,
                             RegisterTile tile = {1, 1}) {
  if (pure.empty()) {
    stage.gpu_single_thread();
    return std::nullopt;
  }
  auto [t0, t1] = threadTile(pure, hint, tile.channels, tile.pixels);
  Var d0(pure[0]), b0(pure[0] + "_block"), th0(pure[0] + "_thread");
  if (pure.size() == 1) {
    stage.gpu_tile(d0, b0, th0, 256, TailStrategy::GuardWithIf);
    return th0;
  }
  Var d1(pure[1]), b1(pure[1] + "_block"), th1(pure[1] + "_thread");
  Var lane(pure[0] + "_lane"), pixel(pure[1] + "_pixel");
  std::vector<VarOrRVar> order;
  if (tile.channels > 1) {
    stage.split(d0, d0, lane, tile.channels, TailStrategy::GuardWithIf).unroll(lane);
    order.push_back(lane);
  }
  if (tile.pixels > 1) {
    stage.split(d1, d1, pixel, tile.pixels, TailStrategy::GuardWithIf).unroll(pixel);
    order.push_back(pixel);
  }
  stage.gpu_tile(d0, d1, b0, b1, th0, th1, t0, t1, TailStrategy::GuardWithIf);
  order.insert(order.end(), {th0, th1});
  if (pure.size() > 2) {
    // The outer dimensions (rows, images) are one grid dimension, the
    // innermost of the grid: its x extent may exceed 65535, y's and z's not.
    Var outer(pure[2]);
    for (size_t d = 3; d < pure.size(); ++d) {
      Var next(pure[d]), fused(pure[2] + "_" + pure[d]);
      stage.fuse(outer, next, fused);
      outer = fused;
    }
    stage.gpu_blocks(outer);
    order.push_back(outer);
  }
  order.insert(order.end(), {b0, b1});
  stage.reorder(order);
  return th0; // the innermost: the thread's tile is a serial loop inside it
}

/// The pure variables of update `u` of `fn`: its left-hand arguments that
/// are the Func's own pure arguments, in order.
std::vector<std::string> updatePureVars(const Function &fn, const Definition &u) {
  std::vector<std::string> pure;
  for (const Expr &a : u.args())
    if (const Variable *v = a.as<Variable>())
      if (std::find(fn.args().begin(), fn.args().end(), v->name) != fn.args().end())
        pure.push_back(v->name);
  return pure;
}

/// `f` computed at the root as kernels: its pure definition, each thread a
/// `tile`, and each update over its pure variables. Returns the pure
/// definition's innermost thread variable.
std::optional<Var> rootKernels(Func f, const plan::Shape &hint, RegisterTile tile = {1, 1}) {
  Function fn = f.function();
  f.compute_root();
  std::optional<Var> thread = gpuKernel(f, fn.args(), hint, tile);
  for (size_t u = 0; u < fn.updates().size(); ++u)
    gpuKernel(f.update(static_cast<int>(u)), updatePureVars(fn, fn.updates()[u]), hint);
  return thread;
}

/// A reduction to one value per channel (a bias gradient: dy summed over
/// every pixel of the batch) would be one thread per channel, each summing
/// N x H x W values: its outer reduction variables become dimensions of a
/// partial sum computed in parallel (rfactor), which the Func then sums per
/// channel. Nothing changes where Halide cannot split the reduction.
void splitChannelReduction(const Function &fn, const plan::Shape &hint) {
  if (fn.args().size() != 1 || fn.updates().size() != 1)
    return;
  const Definition &u = fn.updates()[0];
  const std::vector<ReductionVariable> &rvars = u.schedule().rvars();
  if (rvars.size() < 2 || updatePureVars(fn, u) != fn.args())
    return;
  Func f(fn);
  std::vector<std::pair<RVar, Var>> preserved;
  for (size_t r = 1; r < rvars.size(); ++r)
    preserved.push_back({RVar(rvars[r].var), Var(fn.name() + "_part" + std::to_string(r))});
  Func partial;
  try {
    partial = f.update().rfactor(preserved);
  } catch (const Halide::Error &) {
    return;
  }
  rootKernels(partial, hint);
}

} // namespace

void scheduleForGpu(const std::vector<Func> &outputs, const plan::Shape &hint) {
  std::vector<Function> outputFunctions;
  std::set<std::string> outputNames;
  for (const Func &f : outputs) {
    outputFunctions.push_back(f.function());
    outputNames.insert(f.name());
  }
  std::map<std::string, Function> env = build_environment(outputFunctions);
  // Who calls whom, to find the reductions read only pointwise by an output.
  std::map<std::string, std::set<std::string>> callers;
  for (auto &[name, fn] : env)
    for (auto &[callee, unused] : find_direct_calls(fn))
      if (callee != name) // an update reads the Func it updates
        callers[callee].insert(name);

  // Each Func: inlined, per thread of the one output that reads it, or a
  // kernel of its own.
  std::map<std::string, std::string> perThread; // reduction -> its output
  std::vector<std::string> kernels;
  for (auto &[name, fn] : env) {
    bool output = outputNames.count(name) != 0;
    if (!output && fn.can_be_inlined())
      continue; // recomputed where it is used
    if (!output && callers[name].size() == 1) {
      const std::string &consumer = *callers[name].begin();
      const Function &c = env.at(consumer);
      if (outputNames.count(consumer) && !c.has_update_definition()) {
        PointwiseCalls calls(name, c.args());
        for (const Expr &e : c.values())
          e.accept(&calls);
        if (calls.pointwise && calls.calls > 0) {
          perThread[name] = consumer;
          continue;
        }
      }
    }
    kernels.push_back(name);
  }
  std::set<std::string> hosts; // outputs whose reductions run per thread
  for (auto &[reduction, output] : perThread)
    hosts.insert(output);

  std::map<std::string, Var> innermostThread;
  std::map<std::string, RegisterTile> tiles;
  for (const std::string &name : kernels) {
    const Function &fn = env.at(name);
    splitChannelReduction(fn, hint);
    // A register tile where the reductions run per thread, as far as the
    // step's channels and rows allow.
    RegisterTile tile{1, 1};
    if (hosts.count(name) && fn.args().size() > 1 && fn.args()[0] == "c" && fn.args()[1] == "x" &&
        hint.c > 0) {
      RegisterTile chosen = registerTile();
      if (hint.w >= chosen.pixels)
        tile.pixels = chosen.pixels;
      if (hint.c % chosen.channels == 0)
        tile.channels = chosen.channels;
    }
    tiles[name] = tile;
    if (std::optional<Var> thread = rootKernels(Func(fn), hint, tile))
      innermostThread[name] = *thread;
  }
  for (auto &[name, consumer] : perThread) {
    const Function &fn = env.at(name);
    splitChannelReduction(fn, hint);
    Func f(fn);
    auto thread = innermostThread.find(consumer);
    if (thread == innermostThread.end()) {
      rootKernels(f, hint); // the output runs on one thread: a kernel of its own
      continue;
    }
    f.compute_at(Func(env.at(consumer)), thread->second);
    // The thread's tile stays in registers: its pixels unrolled, its
    // channels one vector (a vector load of packed filters).
    bool hasX = std::find(fn.args().begin(), fn.args().end(), "x") != fn.args().end();
    bool vectorC = tiles[consumer].channels > 1 && !fn.args().empty() && fn.args()[0] == "c";
    auto place = [&](auto stage) {
      if (hasX)
        stage.unroll(Var("x"));
      if (vectorC)
        stage.vectorize(Var("c"));
    };
    place(f);
    // The thread's pixels innermost in every stage, the reduction around
    // them: one load of each filter value per reduction step serves them all.
    for (size_t u = 0; u < fn.updates().size(); ++u) {
      std::vector<VarOrRVar> order;
      for (const std::string &v : updatePureVars(fn, fn.updates()[u]))
        order.push_back(Var(v));
      for (const ReductionVariable &r : fn.updates()[u].schedule().rvars())
        order.push_back(RVar(r.var));
      f.update(static_cast<int>(u)).reorder(order);
      place(f.update(static_cast<int>(u)));
    }
  }
}

} // namespace cnnc::halide
