//===- StaleFiles.h - Temporary files of processes that are gone -*- C++ -*-===//
//
// cnnc and the runtime write a file as `name.tmp-PID` and rename it into
// place (and cnnc keeps the earlier file as `name.old-PID`, a hard link,
// while it publishes a pair). A process killed in between (kill -9, a crash,
// a full disk) leaves them behind. The next writer of `name` removes the
// ones whose PID is no process any more. A PID that is alive (the writer
// itself, a concurrent one, or a reused PID) keeps its file: at worst a
// stale file stays, never is a file of a live writer removed. Both kinds
// are redundant: `name` is always the old or the new whole file.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_STALEFILES_H
#define CNNC_RUNTIME_STALEFILES_H

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/types.h>
#include <unistd.h>

namespace cnnc::rt {

/// Whether no process has id `pid` (kill(pid, 0) says ESRCH).
inline bool processGone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

/// The PID that ends `name` after `prefix` (digits only, nothing after
/// them), or 0.
inline long pidAfter(const std::string &name, const std::string &prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
    return 0;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::strtol(digits.c_str(), nullptr, 10);
}

/// The PID of a temporary's name `anything.tmp-PID` or `anything.old-PID`,
/// or 0.
inline long temporaryPid(const std::string &name) {
  for (const char *marker : {".tmp-", ".old-"}) {
    size_t at = name.rfind(marker);
    if (at != std::string::npos)
      if (long pid = pidAfter(name, name.substr(0, at) + marker))
        return pid;
  }
  return 0;
}

/// Whether `name` is a temporary of a process that is gone.
inline bool isStaleTemporary(const std::string &name) {
  long pid = temporaryPid(name);
  return pid && pid != ::getpid() && processGone(pid);
}

/// Removes `path`.tmp-PID and `path`.old-PID of processes that are gone.
inline void removeStaleTemporaries(const std::string &path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return;
  while (dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    if ((pidAfter(name, base + ".tmp-") || pidAfter(name, base + ".old-")) &&
        isStaleTemporary(name))
      ::unlinkat(::dirfd(d), name.c_str(), 0); // a symbolic link itself, never its target
  }
  ::closedir(d);
}

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_STALEFILES_H
