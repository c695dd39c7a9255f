//===- ObjectCacheTest.cpp - The object cache on real files ---------------===//
//
// ObjectCache (compiler/lib/Target/ObjectCache.cpp): a stored object comes
// back byte for byte, a different key or a stored key that does not match
// misses, a disabled cache never hits, pruning removes the least recently
// used entries first, and SHA-256 gives the published test vectors.
//
//===----------------------------------------------------------------------===//
#include "cnnc/Target/ObjectCache.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using cnnc::ObjectCache;

namespace {

using cnnc::test_files::exists;
using cnnc::test_files::readFile;
using cnnc::test_files::writeFile;

std::string freshDir(const std::string &name) { return cnnc::test_files::freshDir("cache", name); }

void setMtime(const std::string &path, time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(ObjectCacheTest, Sha256TestVectors) {
  EXPECT_EQ(cnnc::sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(cnnc::sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ObjectCacheTest, StoredObjectComesBackAndOtherKeysMiss) {
  std::string dir = freshDir("roundtrip");
  ObjectCache cache(dir + "/cache");
  writeFile(dir + "/a.o", std::string("object\0bytes", 12));
  std::string key = ObjectCache::keyText("x86-64-linux", "function f\n");
  EXPECT_FALSE(cache.fetch(key, dir + "/out.o"));
  cache.store(key, dir + "/a.o");
  ASSERT_TRUE(cache.fetch(key, dir + "/out.o"));
  EXPECT_EQ(readFile(dir + "/out.o"), std::string("object\0bytes", 12));
  EXPECT_FALSE(
      cache.fetch(ObjectCache::keyText("x86-64-linux-avx2", "function f\n"), dir + "/other.o"));
  EXPECT_FALSE(cache.fetch(ObjectCache::keyText("x86-64-linux", "function g\n"), dir + "/other.o"));
  EXPECT_FALSE(exists(dir + "/other.o"));
}

TEST(ObjectCacheTest, KeyIncludesTheCompilerIdentity) {
  std::string identity = cnnc::compilerIdentity();
  EXPECT_FALSE(identity.empty());
  EXPECT_NE(ObjectCache::keyText("t", "s").find(identity), std::string::npos);
}

TEST(ObjectCacheTest, AStoredKeyThatDiffersIsAMiss) {
  std::string dir = freshDir("mismatch");
  ObjectCache cache(dir + "/cache");
  writeFile(dir + "/a.o", "object");
  std::string key = ObjectCache::keyText("t", "function f\n");
  cache.store(key, dir + "/a.o");
  std::string object = cache.objectPath(key);
  writeFile(object.substr(0, object.size() - 2) + ".key", key + "something else");
  EXPECT_FALSE(cache.fetch(key, dir + "/out.o"));
  std::remove((object.substr(0, object.size() - 2) + ".key").c_str());
  EXPECT_FALSE(cache.fetch(key, dir + "/out.o"));
}

TEST(ObjectCacheTest, DisabledCacheNeverHits) {
  std::string dir = freshDir("disabled");
  ObjectCache cache("");
  EXPECT_FALSE(cache.enabled());
  writeFile(dir + "/a.o", "object");
  cache.store("k", dir + "/a.o");
  EXPECT_FALSE(cache.fetch("k", dir + "/out.o"));
}

TEST(ObjectCacheTest, PruneRemovesTheLeastRecentlyUsed) {
  std::string dir = freshDir("prune");
  ObjectCache cache(dir + "/cache");
  std::string bytes(1000, 'x');
  writeFile(dir + "/a.o", bytes);
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) {
    keys.push_back(ObjectCache::keyText("t", "function f" + std::to_string(i) + "\n"));
    cache.store(keys.back(), dir + "/a.o");
    setMtime(cache.objectPath(keys.back()), 1000000 + i * 10);
  }
  cache.prune(4000); // within the limit: nothing goes
  for (const std::string &k : keys)
    EXPECT_TRUE(exists(cache.objectPath(k)));
  // A hit marks an entry used: f0, the oldest, becomes the newest.
  ASSERT_TRUE(cache.fetch(keys[0], dir + "/out.o"));
  cache.prune(3000); // down to 2250 bytes: the two oldest (f1, f2) go
  EXPECT_TRUE(exists(cache.objectPath(keys[0])));
  EXPECT_FALSE(exists(cache.objectPath(keys[1])));
  EXPECT_FALSE(exists(cache.objectPath(keys[2])));
  EXPECT_TRUE(exists(cache.objectPath(keys[3])));
  EXPECT_FALSE(cache.fetch(keys[1], dir + "/out1.o"));
  EXPECT_TRUE(cache.fetch(keys[3], dir + "/out3.o"));
}

} // namespace
