//===- WorkDir.cpp - cnnc's temporary work directories --------------------===//
#include "cnnc/Target/WorkDir.h"

#include "cnnc/runtime/StaleFiles.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cnnc {

namespace {

const char kPrefix[] = "cnnc-";

/// The PID of a work directory's name `cnnc-PID-XXXXXX`, or 0.
long workDirPid(const std::string &name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || name.size() - dash != 7)
    return 0;
  return cnnc::rt::pidAfter(name.substr(0, dash), kPrefix);
}

} // namespace

void removeWorkDir(const std::string &dir) {
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        ::unlinkat(::dirfd(d), e->d_name, 0);
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

void removeStaleWorkDirs(const std::string &root) {
  DIR *d = ::opendir(root.c_str());
  if (!d)
    return;
  while (dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    long pid = workDirPid(name);
    struct stat st;
    if (!pid || pid == ::getpid() || ::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW))
      continue;
    if (S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && cnnc::rt::processGone(pid))
      removeWorkDir(root + "/" + name);
  }
  ::closedir(d);
}

std::string makeWorkDir(const std::string &root, std::string &error) {
  std::string base = root.empty() ? "/tmp" : root;
  removeStaleWorkDirs(base);
  std::string templ = base + "/" + kPrefix + std::to_string(::getpid()) + "-XXXXXX";
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) {
    error = "cannot create a temporary directory in '" + base + "': " + std::strerror(errno);
    return "";
  }
  return buffer.data();
}

} // namespace cnnc
