//===- PublishTest.cpp - Generated files appear together or not at all ----===//
//
// publishFiles (compiler/lib/Target/Publish.cpp) on real files: a pair lands
// together, and when one destination cannot be written neither changes and
// no temporary file is left in either directory.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Target/Publish.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using cnnc::publishFiles;

namespace {

using cnnc::test_files::exists;
using cnnc::test_files::readFile;
using cnnc::test_files::writeFile;

std::string freshDir(const std::string &name) {
  return cnnc::test_files::freshDir("publish", name);
}

/// The names in `dir`, sorted, without . and ..
std::vector<std::string> listing(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Publish, BothFilesReplaceTheEarlierPair) {
  std::string work = freshDir("work1"), out = freshDir("out1");
  writeFile(work + "/model.so", "new library");
  writeFile(work + "/model.h", "new header");
  writeFile(out + "/m.so", "old library");
  writeFile(out + "/m.h", "old header");
  std::string error;
  ASSERT_TRUE(
      publishFiles({{work + "/model.so", out + "/m.so"}, {work + "/model.h", out + "/m.h"}}, error))
      << error;
  EXPECT_EQ(readFile(out + "/m.so"), "new library");
  EXPECT_EQ(readFile(out + "/m.h"), "new header");
  EXPECT_EQ(listing(out), (std::vector<std::string>{"m.h", "m.so"}));
}

TEST(Publish, AHeaderThatCannotBeWrittenKeepsTheEarlierLibrary) {
  std::string work = freshDir("work2"), out = freshDir("out2");
  writeFile(work + "/model.so", "new library");
  writeFile(work + "/model.h", "new header");
  writeFile(out + "/m.so", "old library");
  ASSERT_EQ(::mkdir((out + "/m.h").c_str(), 0755), 0); // the header's name is taken
  std::string error;
  EXPECT_FALSE(publishFiles(
      {{work + "/model.so", out + "/m.so"}, {work + "/model.h", out + "/m.h"}}, error));
  EXPECT_EQ(error, "cannot write '" + out + "/m.h': it exists and is not a regular file");
  EXPECT_EQ(readFile(out + "/m.so"), "old library");
  EXPECT_EQ(listing(out), (std::vector<std::string>{"m.h", "m.so"}));
}

TEST(Publish, AMissingDirectoryWritesNothing) {
  std::string work = freshDir("work3"), out = freshDir("out3");
  writeFile(work + "/model.so", "new library");
  writeFile(work + "/model.h", "new header");
  std::string error;
  EXPECT_FALSE(publishFiles(
      {{work + "/model.so", out + "/m.so"}, {work + "/model.h", out + "/no/m.h"}}, error));
  EXPECT_EQ(error.rfind("cannot write '" + out + "/no/m.h': No such file or directory", 0), 0u)
      << error;
  EXPECT_FALSE(exists(out + "/m.so"));
  EXPECT_TRUE(listing(out).empty());
}

} // namespace
