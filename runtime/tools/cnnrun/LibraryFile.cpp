//===- LibraryFile.cpp - A model library checked before dlopen ------------===//
//
// dlopen maps a shared library's segments as its program headers describe
// them; a file cut short (a copy interrupted, a full disk) is mapped past its
// end, and the first touch of a missing page kills the process with SIGBUS.
// So cnnrun reads the ELF headers first and refuses a file shorter than what
// they describe, with a message, before dlopen sees it.
//
//===----------------------------------------------------------------------===//
#include "Api.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <sys/stat.h>

namespace cnnrun {

bool checkLibraryFile(const std::string &path, std::string &error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return true; // dlopen says why it cannot open it
  if (!S_ISREG(st.st_mode)) {
    error = "'" + path + "' is not a regular file";
    return false;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr header;
  auto fail = [&](const std::string &why) {
    error = "'" + path + "' is not a whole shared library: " + why;
    return false;
  };
  if (!in.read(reinterpret_cast<char *>(&header), sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return fail("it does not start with an ELF header");
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr))
    return fail("it is not a 64-bit ELF file");
  uint64_t needed = 0;
  auto need = [&](uint64_t offset, uint64_t length) {
    uint64_t end;
    if (__builtin_add_overflow(offset, length, &end))
      end = UINT64_MAX;
    needed = std::max(needed, end);
  };
  need(header.e_phoff, uint64_t(header.e_phnum) * sizeof(Elf64_Phdr));
  need(header.e_shoff, uint64_t(header.e_shnum) * header.e_shentsize);
  if (needed <= size) {
    in.seekg(static_cast<std::streamoff>(header.e_phoff));
    for (int i = 0; i < header.e_phnum; ++i) {
      Elf64_Phdr segment;
      if (!in.read(reinterpret_cast<char *>(&segment), sizeof segment))
        break;
      if (segment.p_type == PT_LOAD || segment.p_type == PT_DYNAMIC)
        need(segment.p_offset, segment.p_filesz);
    }
  }
  if (needed > size)
    return fail("its headers describe " + std::to_string(needed) + " bytes, the file has " +
                std::to_string(size) + " (was it cut short?)");
  return true;
}

} // namespace cnnrun
