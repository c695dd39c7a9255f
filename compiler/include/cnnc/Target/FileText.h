//===- FileText.h - A whole file as a string -------------------*- C++ -*-===//
#ifndef CNNC_TARGET_FILETEXT_H
#define CNNC_TARGET_FILETEXT_H

#include <fstream>
#include <sstream>
#include <string>

namespace cnnc {

/// The bytes of the file at `path` in `out`; false when it cannot be read.
inline bool readFileText(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return !in.bad();
}

} // namespace cnnc

#endif // CNNC_TARGET_FILETEXT_H
