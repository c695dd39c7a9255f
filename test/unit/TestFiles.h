//===- TestFiles.h - Real files for the unit tests ------------*- C++ -*-===//
//
// Helpers of the tests that work on real files (publishing, the object
// cache, stale temporaries): a fresh directory under the test's temporary
// directory, whole-file reads and writes, and the PID of a process that is
// gone.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TEST_UNIT_TESTFILES_H
#define CNNC_TEST_UNIT_TESTFILES_H

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cnnc::test_files {

/// An empty directory `<prefix>-<name>-<pid>` under the test's temporary
/// directory (removed first if an earlier run left it).
inline std::string freshDir(const std::string &prefix, const std::string &name) {
  std::string dir = std::string(::testing::TempDir()) + "/" + prefix + "-" + name + "-" +
                    std::to_string(::getpid());
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0);
  return dir;
}

inline void writeFile(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// The PID of a child that has exited and been reaped: a process that is
/// gone (until the PID is reused, which takes the kernel's whole PID range).
inline long deadPid() {
  pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  int status;
  ::waitpid(child, &status, 0);
  return child;
}

} // namespace cnnc::test_files

#endif // CNNC_TEST_UNIT_TESTFILES_H
