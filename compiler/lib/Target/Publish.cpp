//===- Publish.cpp - Putting generated files in place together ------------===//
#include "cnnc/Target/Publish.h"

#include "cnnc/runtime/StaleFiles.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace cnnc {
namespace {

std::string cannotWrite(const std::string &to) {
  return "cannot write '" + to + "': " + std::strerror(errno);
}

/// Moves `from` to `staged`, a name beside its destination `to` (a copy
/// with the same mode when it is on another file system).
bool stageBeside(const std::string &from, const std::string &staged, const std::string &to,
                 std::string &error) {
  if (std::rename(from.c_str(), staged.c_str()) == 0)
    return true;
  std::ifstream in(from, std::ios::binary);
  if (!in) {
    error = "cannot read '" + from + "': " + std::strerror(errno);
    return false;
  }
  std::ofstream out(staged, std::ios::binary);
  if (!out) {
    error = cannotWrite(to);
    return false;
  }
  out << in.rdbuf();
  out.close();
  if (!out || in.bad()) {
    error = cannotWrite(to);
    std::remove(staged.c_str());
    return false;
  }
  struct stat st;
  if (::stat(from.c_str(), &st) == 0)
    ::chmod(staged.c_str(), st.st_mode & 07777);
  return true;
}

} // namespace

bool publishFiles(const std::vector<std::pair<std::string, std::string>> &files,
                  std::string &error) {
  const std::string suffix = "-" + std::to_string(::getpid());
  std::vector<std::string> staged, backups; // backups[i] "": no earlier file
  auto cleanUp = [&](size_t firstStaged) {
    for (size_t i = firstStaged; i < staged.size(); ++i)
      std::remove(staged[i].c_str());
    for (const std::string &b : backups)
      if (!b.empty())
        std::remove(b.c_str());
  };
  for (const auto &file : files)
    cnnc::rt::removeStaleTemporaries(file.second); // of runs killed while publishing
  // 1. Stage every file beside its destination.
  for (const auto &[from, to] : files) {
    struct stat st;
    if (::stat(to.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      error = "cannot write '" + to + "': it exists and is not a regular file";
      cleanUp(0);
      return false;
    }
    std::string name = to + ".tmp" + suffix;
    if (!stageBeside(from, name, to, error)) {
      cleanUp(0);
      return false;
    }
    staged.push_back(name);
  }
  // 2. Keep the earlier files.
  for (const auto &file : files) {
    const std::string &to = file.second;
    std::string backup = to + ".old" + suffix;
    std::remove(backup.c_str());
    if (::link(to.c_str(), backup.c_str()) == 0) {
      backups.push_back(backup);
    } else if (errno == ENOENT) {
      backups.push_back("");
    } else {
      error = cannotWrite(to);
      cleanUp(0);
      return false;
    }
  }
  // 3. Rename; on a failure put back what the earlier renames replaced.
  for (size_t i = 0; i < files.size(); ++i) {
    if (std::rename(staged[i].c_str(), files[i].second.c_str()) == 0)
      continue;
    error = cannotWrite(files[i].second);
    for (size_t j = 0; j < i; ++j) {
      const std::string &to = files[j].second;
      if (backups[j].empty()) {
        std::remove(to.c_str());
        continue;
      }
      if (std::rename(backups[j].c_str(), to.c_str()) != 0)
        error += "; the earlier '" + to + "' is kept as '" + backups[j] + "'";
      backups[j].clear(); // restored, or kept for the user
    }
    cleanUp(i);
    return false;
  }
  cleanUp(files.size());
  return true;
}

} // namespace cnnc
