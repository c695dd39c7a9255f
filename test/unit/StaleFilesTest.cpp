//===- StaleFilesTest.cpp - What killed runs leave behind is removed ------===//
//
// removeStaleTemporaries (runtime/include/cnnc/runtime/StaleFiles.h) and
// removeStaleWorkDirs (compiler/lib/Target/WorkDir.cpp) on real files: the
// temporaries and work directories of a process that is gone are removed,
// those of live processes and every other file are kept.
//
//===----------------------------------------------------------------------===//
#include "cnnc/runtime/StaleFiles.h"
#include "cnnc/Target/Publish.h"
#include "cnnc/Target/WorkDir.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

namespace {

using cnnc::test_files::deadPid;
using cnnc::test_files::exists;
using cnnc::test_files::writeFile;

TEST(StaleFiles, TemporariesOfProcessesThatAreGoneAreRemoved) {
  std::string dir = cnnc::test_files::freshDir("stale", "temporaries");
  std::string dead = std::to_string(deadPid()), alive = std::to_string(getppid());
  for (const std::string &name : std::vector<std::string>{
           "m.so.tmp-" + dead, "m.so.old-" + dead, "m.so.tmp-" + alive, "m.so.tmp-x1", "m.so",
           "other.so.tmp-" + dead, "m.so.tmp-" + dead + "-2"})
    writeFile(dir + "/" + name, "x");
  cnnc::rt::removeStaleTemporaries(dir + "/m.so");
  EXPECT_FALSE(exists(dir + "/m.so.tmp-" + dead));
  EXPECT_FALSE(exists(dir + "/m.so.old-" + dead));
  EXPECT_TRUE(exists(dir + "/m.so.tmp-" + alive)) << "a live writer's file";
  EXPECT_TRUE(exists(dir + "/m.so.tmp-x1"));
  EXPECT_TRUE(exists(dir + "/m.so"));
  EXPECT_TRUE(exists(dir + "/other.so.tmp-" + dead)) << "another file's: its writer cleans it";
  EXPECT_TRUE(exists(dir + "/m.so.tmp-" + dead + "-2"));
  // publishFiles does it for each file it writes.
  std::string work = cnnc::test_files::freshDir("stale", "work");
  writeFile(work + "/model.so", "new");
  std::string error;
  ASSERT_TRUE(cnnc::publishFiles({{work + "/model.so", dir + "/other.so"}}, error)) << error;
  EXPECT_FALSE(exists(dir + "/other.so.tmp-" + dead));
}

TEST(StaleFiles, WorkDirectoriesOfProcessesThatAreGoneAreRemoved) {
  std::string root = cnnc::test_files::freshDir("stale", "tmp");
  std::string dead = root + "/cnnc-" + std::to_string(deadPid()) + "-abcdef";
  std::string alive = root + "/cnnc-" + std::to_string(getppid()) + "-abcdef";
  std::string unrelated = root + "/cnnc-notes";
  for (const std::string &d : {dead, alive, unrelated}) {
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    writeFile(d + "/f0.o", "object");
  }
  std::string error;
  std::string mine = cnnc::makeWorkDir(root, error);
  ASSERT_FALSE(mine.empty()) << error;
  EXPECT_FALSE(exists(dead)) << "a killed run's directory";
  EXPECT_TRUE(exists(alive + "/f0.o"));
  EXPECT_TRUE(exists(unrelated + "/f0.o"));
  EXPECT_EQ(mine.rfind(root + "/cnnc-" + std::to_string(getpid()) + "-", 0), 0u) << mine;
  writeFile(mine + "/glue.c", "x");
  cnnc::removeWorkDir(mine);
  EXPECT_FALSE(exists(mine));
}

} // namespace
