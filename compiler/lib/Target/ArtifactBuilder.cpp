//===- ArtifactBuilder.cpp - From a model plan to model.so ----------------===//
#include "cnnc/Target/ArtifactBuilder.h"
#include "cnnc/Conversion/HalideLowering.h"
#include "cnnc/Target/DeviceApi.h"
#include "cnnc/Target/FileText.h"
#include "cnnc/Target/GlueWriter.h"
#include "cnnc/Target/ObjectCache.h"
#include "cnnc/Target/Publish.h"
#include "cnnc/Target/WorkDir.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <limits.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace cnnc {
namespace {

using Clock = std::chrono::steady_clock;

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

/// Runs a program (no shell), its stderr captured for the error message.
bool runTool(const std::vector<std::string> &argv, const std::string &logPath, std::string &error) {
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot run '" + argv[0] + "': " + std::strerror(rc);
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return true;
  std::string output;
  readFileText(logPath, output);
  std::string command;
  for (const std::string &a : argv)
    command += (command.empty() ? "" : " ") + a;
  error = "'" + command + "' failed:\n" + output;
  return false;
}

bool fileExists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

/// The words of `lib/cnnc_model_runtime.link` beside the runtime library:
/// what its build needs at a model's link (the sanitizer runtimes of an
/// instrumented build); none when the file is absent (an older install).
std::vector<std::string> runtimeLinkFlags(const std::string &resourceDir) {
  std::string text;
  std::vector<std::string> flags;
  if (!readFileText(resourceDir + "/lib/cnnc_model_runtime.link", text))
    return flags;
  std::istringstream words(text);
  for (std::string w; words >> w;)
    flags.push_back(w);
  return flags;
}

/// Runs each task in a child process of its own, at the same time, and
/// waits for all: false with the first failure's message. LLVM and Halide
/// abort the process on some errors (an object that cannot be written to a
/// full disk is "LLVM ERROR: IO failure on output stream"); in a child, that
/// is an error of this one, which then cleans up and returns, never an
/// abort of cnnc. Children are forked before any Halide work in this process,
/// so each starts from a clean Halide state.
bool runInChildren(const std::vector<std::function<bool(std::string &)>> &tasks,
                   const std::string &workDir, std::string &error) {
  std::vector<pid_t> pids;
  for (size_t j = 0; j < tasks.size(); ++j) {
    std::string errorFile = workDir + "/job" + std::to_string(j) + ".err";
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
      error = std::string("cannot fork: ") + std::strerror(errno);
      break;
    }
    if (pid == 0) {
      std::string childError;
      bool ok = tasks[j](childError);
      if (!ok) {
        std::string unused;
        writeText(errorFile, childError, unused);
      }
      std::fflush(nullptr);
      _exit(ok ? 0 : 1);
    }
    pids.push_back(pid);
  }
  bool ok = error.empty();
  for (size_t j = 0; j < pids.size(); ++j) {
    int status = 0;
    while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      continue;
    std::string message;
    if (!readFileText(workDir + "/job" + std::to_string(j) + ".err", message) || message.empty())
      message = WIFSIGNALED(status)
                    ? std::string("code generation stopped with signal ") +
                          std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
                          "): LLVM's or Halide's message is above"
                    : "a compile job terminated abnormally";
    if (ok)
      error = message;
    ok = false;
  }
  return ok;
}

/// The Halide runtime for `target`: from the object cache, or compiled into
/// the work directory (and then stored).
bool halideRuntime(const std::string &target, const ObjectCache &cache, const std::string &path,
                   std::string &error) {
  std::string key = ObjectCache::keyText(target, "the Halide runtime\n");
  if (cache.fetch(key, path))
    return true;
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (!runInChildren({[&](std::string &e) { return compileHalideRuntime(target, path, e); }}, dir,
                     error))
    return false;
  cache.store(key, path);
  return true;
}

/// An optimizer kernel of a GPU target, like the runtime: cached by target.
bool deviceKernel(const std::string &target, const DeviceKernel &kernel, const ObjectCache &cache,
                  const std::string &path, std::string &error) {
  std::string key =
      ObjectCache::keyText(target, std::string("the device optimizer kernel ") + kernel.function);
  if (cache.fetch(key, path))
    return true;
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (!runInChildren({[&](std::string &e) { return compileDeviceKernel(target, kernel, path, e); }},
                     dir, error))
    return false;
  cache.store(key, path);
  return true;
}

/// An estimate of a function's compile cost, to balance the jobs.
int cost(const plan::ModelPlan &plan, const plan::Step &s) {
  return plan.ops[s.ops[0]].kind == plan::LayerKind::Conv && s.kind != plan::StepKind::Prepare ? 4
                                                                                               : 1;
}

/// The plan's functions as objects in the work directory, one per function
/// (`<function>.o`, and `.stmt` with `withStmt`): each taken from the cache
/// or compiled, the misses by `jobs` child processes (runInChildren), and
/// stored. The loop-nest dump always compiles (it is not cached).
bool functionObjects(const plan::ModelPlan &plan, const ArtifactOptions &o,
                     const ObjectCache &cache, const std::string &workDir, bool withStmt,
                     std::vector<std::string> &objects, std::vector<std::string> &stmts,
                     int &cached, std::string &error) {
  std::vector<const plan::Step *> functions = plan.uniqueFunctions();
  std::vector<std::string> keys;
  std::vector<size_t> misses;
  for (size_t i = 0; i < functions.size(); ++i) {
    const std::string &name = functions[i]->function;
    objects.push_back(workDir + "/" + name + ".o");
    stmts.push_back(withStmt ? workDir + "/" + name + ".stmt" : "");
    keys.push_back(ObjectCache::keyText(o.target, plan::functionSignature(plan, *functions[i])));
    if (!withStmt && cache.fetch(keys.back(), objects.back()))
      ++cached;
    else
      misses.push_back(i);
  }
  if (misses.empty())
    return true;
  int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(misses.size())));
  std::vector<std::vector<size_t>> parts(jobs);
  std::vector<int> load(jobs, 0);
  std::stable_sort(misses.begin(), misses.end(), [&](size_t a, size_t b) {
    return cost(plan, *functions[a]) > cost(plan, *functions[b]);
  });
  for (size_t i : misses) {
    int j = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    parts[j].push_back(i);
    load[j] += cost(plan, *functions[i]);
  }
  auto compilePart = [&](const std::vector<size_t> &part, std::string &partError) {
    for (size_t i : part) {
      if (!compileFunctions(plan, {functions[i]}, o.target, objects[i], stmts[i], partError))
        return false;
      if (!withStmt)
        cache.store(keys[i], objects[i]);
    }
    return true;
  };
  std::vector<std::function<bool(std::string &)>> tasks;
  for (const std::vector<size_t> &part : parts)
    tasks.push_back([&, part](std::string &partError) { return compilePart(part, partError); });
  return runInChildren(tasks, workDir, error);
}

std::string replaceExtension(const std::string &path, const std::string &ext) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return path + ext;
  return path.substr(0, dot) + ext;
}

bool moveInto(const std::string &from, const std::string &to, std::string &error) {
  return publishFiles({{from, to}}, error);
}

/// Loads the new library and creates a context: catches unresolved symbols
/// and embedded weights that do not fit the model.
bool checkSharedLibrary(const std::string &path, bool required, std::string &error) {
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    if (required)
      error = std::string("cannot load the generated library to check it: ") + dlerror();
    return !required;
  }
  using Create = int (*)(void **);
  using Destroy = void (*)(void *);
  using LastError = const char *(*)(const void *);
  auto create = reinterpret_cast<Create>(dlsym(lib, "cnnc_create"));
  auto destroy = reinterpret_cast<Destroy>(dlsym(lib, "cnnc_destroy"));
  auto lastError = reinterpret_cast<LastError>(dlsym(lib, "cnnc_last_error"));
  bool ok = create && destroy && lastError;
  if (!ok) {
    error = "the generated library lacks the cnnc_* entry points";
  } else {
    void *model = nullptr;
    if (create(&model) != 0) {
      error = lastError(nullptr);
      ok = false;
    } else {
      destroy(model);
    }
  }
  dlclose(lib);
  return ok;
}

/// The version script exporting exactly the functions cnnc.h declares
/// (`CNNC_API type name(`), so generated pipelines stay internal.
std::string exportsMap(const std::string &apiHeader) {
  std::string map = "{ global:";
  std::istringstream in(apiHeader);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CNNC_API ", 0) != 0)
      continue;
    size_t paren = line.find('(');
    size_t start = line.find_last_of(" *", paren);
    if (paren != std::string::npos && start != std::string::npos)
      map += " " + line.substr(start + 1, paren - start - 1) + ";";
  }
  return map + " local: *; };\n";
}

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

} // namespace

std::string defaultResourceDir() {
  if (const char *d = std::getenv("CNNC_RESOURCE_DIR"))
    return d;
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0)
    return ".";
  std::string exe(buffer, static_cast<size_t>(n));
  std::string bin = exe.substr(0, exe.find_last_of('/'));
  return bin.substr(0, bin.find_last_of('/'));
}

bool buildArtifact(const plan::ModelPlan &plan, const ArtifactOptions &o, std::ostream &log,
                   std::string &error) {
  std::string includeDir = o.resourceDir + "/include";
  std::string runtimeLib = o.resourceDir + "/lib/libcnnc_model_runtime.a";
  std::string apiHeader;
  if (!readFileText(includeDir + "/cnnc/runtime/cnnc.h", apiHeader) || !fileExists(runtimeLib)) {
    error = "cannot find the cnnc runtime (include/cnnc/runtime/cnnc.h and "
            "lib/libcnnc_model_runtime.a) under '" +
            o.resourceDir + "'; set CNNC_RESOURCE_DIR";
    return false;
  }
  const char *tmpRoot = std::getenv("TMPDIR");
  std::string work = makeWorkDir(tmpRoot ? tmpRoot : "", error);
  if (work.empty())
    return false;
  bool ok = [&] {
    if (o.kind == ArtifactKind::Header) {
      return writeText(work + "/model.h", writeModelHeader(plan, o.target, apiHeader), error) &&
             moveInto(work + "/model.h", o.output, error);
    }
    auto t0 = Clock::now();
    std::vector<std::string> objects, stmts;
    bool withStmt = o.kind == ArtifactKind::Stmt;
    ObjectCache cache(o.cacheDir);
    int cached = 0;
    bool compiled = functionObjects(plan, o, cache, work, withStmt, objects, stmts, cached, error);
    cache.prune(); // also after a failure: what was stored stays bounded
    if (!compiled)
      return false;
    if (o.verbose)
      log << "cnnc: " << objects.size() << " pipelines: " << cached << " from the cache, "
          << objects.size() - cached << " compiled with " << o.jobs << " jobs in " << seconds(t0)
          << " s\n";
    if (withStmt) {
      std::string all;
      for (const std::string &s : stmts) {
        std::string part;
        readFileText(s, part);
        all += part;
      }
      return writeText(work + "/model.stmt", all, error) &&
             moveInto(work + "/model.stmt", o.output, error);
    }
    auto t1 = Clock::now();
    std::string runtimeObject = work + "/halide_runtime.o";
    if (!halideRuntime(o.target, cache, runtimeObject, error))
      return false;
    if (deviceApiOf(o.target))
      for (const DeviceKernel &k : kDeviceOptimizerKernels) {
        std::string object = work + "/" + k.function + ".o";
        if (!deviceKernel(o.target, k, cache, object, error))
          return false;
        objects.push_back(object);
      }
    std::string embed;
    uint64_t embedSize = 0;
    if (!o.embedWeights.empty()) {
      char real[PATH_MAX];
      struct stat st;
      if (!::realpath(o.embedWeights.c_str(), real) || ::stat(real, &st) != 0) {
        error = "cannot read weights '" + o.embedWeights + "': " + std::strerror(errno);
        return false;
      }
      embed = real;
      embedSize = static_cast<uint64_t>(st.st_size);
      if (embed.find_first_of("\"\\\n") != std::string::npos) {
        error = "the weights path '" + embed + "' contains a quote, backslash or newline";
        return false;
      }
    }
    if (!writeText(work + "/glue.c", writeGlueSource(plan, o.target, embed, embedSize), error) ||
        !runTool({o.cc, "-c", "-fPIC", "-O1", "-I" + includeDir, work + "/glue.c", "-o",
                  work + "/glue.o"},
                 work + "/tool.log", error))
      return false;
    std::vector<std::string> link = {o.cxx,           "-r", "-nostdlib", "-o", work + "/model.o",
                                     work + "/glue.o"};
    link.insert(link.end(), objects.begin(), objects.end());
    link.insert(link.end(),
                {runtimeObject, "-Wl,--whole-archive", runtimeLib, "-Wl,--no-whole-archive"});
    if (!runTool(link, work + "/tool.log", error))
      return false;
    if (o.kind == ArtifactKind::Object)
      return moveInto(work + "/model.o", o.output, error);
    if (o.kind == ArtifactKind::StaticLibrary) {
      return runTool({"ar", "rcs", work + "/model.a", work + "/model.o"}, work + "/tool.log",
                     error) &&
             moveInto(work + "/model.a", o.output, error);
    }
    std::vector<std::string> linkShared = {o.cxx,
                                           "-shared",
                                           "-o",
                                           work + "/model.so",
                                           work + "/model.o",
                                           "-Wl,--version-script=" + work + "/exports.map",
                                           "-Wl,-z,defs",
                                           "-lpthread",
                                           "-ldl",
                                           "-lm"};
    for (const std::string &flag : runtimeLinkFlags(o.resourceDir))
      linkShared.push_back(flag);
    if (!writeText(work + "/exports.map", exportsMap(apiHeader), error) ||
        !runTool(linkShared, work + "/tool.log", error))
      return false;
    if (!checkSharedLibrary(work + "/model.so", !o.embedWeights.empty(), error)) {
      if (!o.embedWeights.empty())
        error = "embedded weights '" + o.embedWeights + "' do not fit: " + error;
      return false;
    }
    if (o.verbose)
      log << "cnnc: runtime, glue and link in " << seconds(t1) << " s\n";
    return writeText(work + "/model.h", writeModelHeader(plan, o.target, apiHeader), error) &&
           publishFiles({{work + "/model.so", o.output},
                         {work + "/model.h", replaceExtension(o.output, ".h")}},
                        error);
  }();
  removeWorkDir(work);
  return ok;
}

} // namespace cnnc
