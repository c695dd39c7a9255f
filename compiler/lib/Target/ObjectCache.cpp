//===- ObjectCache.cpp - Compiled functions reused across runs ------------===//
#include "cnnc/Target/ObjectCache.h"

#include "cnnc/Target/FileText.h"
#include "cnnc/runtime/StaleFiles.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SHA256.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fstream>
#include <link.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cnnc {
namespace {

void makeDirs(const std::string &path) {
  for (size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/')
      ::mkdir(path.substr(0, i).c_str(), 0755);
}

/// Copies `from` to `to` through a temporary file beside `to`, renamed into
/// place, so that no reader ever sees a partial file.
bool copyAtomically(const std::string &from, const std::string &to) {
  std::string tmp = to + ".tmp-" + std::to_string(::getpid());
  {
    std::ifstream in(from, std::ios::binary);
    if (!in)
      return false;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      std::remove(tmp.c_str());
      return false;
    }
    out << in.rdbuf();
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), to.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

bool writeAtomically(const std::string &text, const std::string &to) {
  std::string tmp = to + ".tmp-" + std::to_string(::getpid());
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out || std::rename(tmp.c_str(), to.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

std::string hex(const uint8_t *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
  }
  return s;
}

/// The GNU build ID in the PT_NOTE segments of one loaded object, or "".
std::string buildId(const dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    auto align4 = [](size_t n) { return (n + 3) & ~size_t(3); };
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto *note = reinterpret_cast<const ElfW(Nhdr) *>(p);
      const char *name = p + sizeof(ElfW(Nhdr));
      const char *desc = name + align4(note->n_namesz);
      if (desc + note->n_descsz > end)
        break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0)
        return hex(reinterpret_cast<const uint8_t *>(desc), note->n_descsz);
      p = desc + align4(note->n_descsz);
    }
  }
  return "";
}

int addObject(dl_phdr_info *info, size_t, void *data) {
  auto &lines = *static_cast<std::vector<std::string> *>(data);
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("linux-vdso") != std::string::npos) // the kernel's, not code we run
    return 0;
  std::string id = buildId(info);
  if (id.empty()) {
    struct stat st;
    std::string path = name.empty() ? "/proc/self/exe" : name;
    if (::stat(path.c_str(), &st) == 0)
      id = "file " + path + " " + std::to_string(st.st_size) + " " +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    else
      id = "unknown " + path;
  }
  lines.push_back(id);
  return 0;
}

struct Entry {
  std::string base; ///< path without extension
  uint64_t bytes;
  time_t used;
};

} // namespace

std::string sha256Hex(const std::string &text) {
  llvm::SHA256 h;
  h.update(llvm::StringRef(text));
  llvm::StringRef digest = h.final();
  return hex(reinterpret_cast<const uint8_t *>(digest.data()), digest.size());
}

std::string compilerIdentity() {
  static const std::string identity = [] {
    std::vector<std::string> lines;
    dl_iterate_phdr(addObject, &lines);
    std::string text;
    for (const std::string &l : lines)
      text += l + "\n";
    return text;
  }();
  return identity;
}

ObjectCache ObjectCache::fromEnvironment() {
  if (const char *off = std::getenv("CNNC_CACHE"))
    if (std::strcmp(off, "off") == 0 || std::strcmp(off, "0") == 0)
      return ObjectCache("");
  if (const char *d = std::getenv("CNNC_CACHE_DIR"))
    return ObjectCache(d);
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return ObjectCache(std::string(x) + "/cnnc");
  if (const char *h = std::getenv("HOME"); h && *h)
    return ObjectCache(std::string(h) + "/.cache/cnnc");
  return ObjectCache("");
}

std::string ObjectCache::keyText(const std::string &target, const std::string &signature) {
  return "cnnc object cache 1\n" + compilerIdentity() + "target " + target + "\n" + signature;
}

std::string ObjectCache::objectPath(const std::string &key) const {
  std::string hash = sha256Hex(key);
  return dir_ + "/objects/" + hash.substr(0, 2) + "/" + hash + ".o";
}

bool ObjectCache::fetch(const std::string &key, const std::string &path) const {
  if (!enabled())
    return false;
  std::string object = objectPath(key);
  std::string base = object.substr(0, object.size() - 2);
  std::string stored;
  if (!readFileText(base + ".key", stored) || stored != key)
    return false;
  std::remove(path.c_str());
  if (::link(object.c_str(), path.c_str()) != 0 && !copyAtomically(object, path))
    return false;
  ::utimensat(AT_FDCWD, object.c_str(), nullptr, 0); // recently used: pruned last
  return true;
}

void ObjectCache::store(const std::string &key, const std::string &path) const {
  if (!enabled())
    return;
  std::string object = objectPath(key);
  makeDirs(object.substr(0, object.find_last_of('/')));
  // The object before its key: a reader that finds the key finds the object.
  if (copyAtomically(path, object))
    writeAtomically(key, object.substr(0, object.size() - 2) + ".key");
}

void ObjectCache::prune() const {
  uint64_t megabytes = 2048;
  if (const char *m = std::getenv("CNNC_CACHE_MAX_MB")) {
    char *end = nullptr;
    unsigned long long v = std::strtoull(m, &end, 10);
    if (end != m && *end == '\0')
      megabytes = v;
  }
  prune(megabytes << 20);
}

void ObjectCache::prune(uint64_t maxBytes) const {
  if (!enabled())
    return;
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::string root = dir_ + "/objects";
  DIR *top = ::opendir(root.c_str());
  if (!top)
    return;
  while (dirent *d = ::readdir(top)) {
    if (d->d_name[0] == '.')
      continue;
    std::string sub = root + "/" + d->d_name;
    DIR *inner = ::opendir(sub.c_str());
    if (!inner)
      continue;
    while (dirent *f = ::readdir(inner)) {
      std::string name = f->d_name;
      if (cnnc::rt::isStaleTemporary(name)) { // a store killed before its rename
        ::unlinkat(::dirfd(inner), name.c_str(), 0);
        continue;
      }
      if (name.size() < 3 || name.compare(name.size() - 2, 2, ".o") != 0)
        continue;
      struct stat st;
      std::string path = sub + "/" + name;
      if (::stat(path.c_str(), &st) != 0)
        continue;
      entries.push_back(
          {path.substr(0, path.size() - 2), static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec});
      total += static_cast<uint64_t>(st.st_size);
    }
    ::closedir(inner);
  }
  ::closedir(top);
  if (total <= maxBytes)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  // Down to three quarters, so that the next compiles do not prune again.
  for (const Entry &e : entries) {
    if (total <= maxBytes / 4 * 3)
      break;
    std::remove((e.base + ".key").c_str()); // the key first: no reader matches a missing object
    std::remove((e.base + ".o").c_str());
    total -= e.bytes;
  }
}

} // namespace cnnc
