//===- RuntimeFilesTest.cpp - safetensors, IDX and PGM readers ------------===//
//
// The readers of runtime/ on hand-made bytes: what they accept, and that
// every malformed input is an error with a message, never a crash or a read
// outside the buffer (the fuzzers' seeds come from the same cases).
//
//===----------------------------------------------------------------------===//
#include "cnnc/runtime/Idx.h"
#include "cnnc/runtime/Image.h"
#include "cnnc/runtime/Random.h"
#include "cnnc/runtime/Safetensors.h"

#include "TestFiles.h"

#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>

using namespace cnnc::rt;

namespace {

std::vector<uint8_t> withHeader(const std::string &json, size_t dataBytes) {
  std::vector<uint8_t> b(8 + json.size() + dataBytes, 0);
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(b.data() + 8, json.data(), json.size());
  return b;
}

std::string parseError(const std::vector<uint8_t> &b) {
  SafetensorsFile f;
  std::string error;
  EXPECT_FALSE(parseSafetensors(b.data(), b.size(), f, error));
  return error;
}

std::string tempPath(const char *name) { return std::string(::testing::TempDir()) + "/" + name; }

void writeBytes(const std::string &path, const std::vector<uint8_t> &b) {
  FILE *f = std::fopen(path.c_str(), "wb");
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

TEST(Safetensors, RoundTrip) {
  float a[6] = {1, 2, 3, 4, 5, 6};
  int64_t n = 42;
  std::vector<uint8_t> bytes = serializeSafetensors(
      {{"w", "F32", {2, 3}, a, sizeof a}, {"n", "I64", {}, &n, 8}}, {{"format", "pt"}});
  EXPECT_EQ((bytes.size() - 8 - 24 - 8) % 8, 0u) << "data stays 8-byte aligned";
  SafetensorsFile f;
  std::string error;
  ASSERT_TRUE(parseSafetensors(bytes.data(), bytes.size(), f, error)) << error;
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[0].name, "w") << "entries keep the header's order";
  EXPECT_EQ(f.entries[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.entries[0].data, a, sizeof a), 0);
  EXPECT_EQ(f.find("n")->bytes, 8u);
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST(Safetensors, RejectsMalformedHeaders) {
  EXPECT_NE(parseError({1, 2, 3}).find("truncated"), std::string::npos);
  std::vector<uint8_t> huge = withHeader("{}", 0);
  huge[5] = 1; // 2^40 header bytes
  EXPECT_NE(parseError(huge).find("exceeds the file"), std::string::npos);
  EXPECT_NE(parseError(withHeader("[1]", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(parseError(withHeader("{\"a\": 3}", 0)).find("needs dtype"), std::string::npos);
  EXPECT_NE(
      parseError(withHeader(R"({"a": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}})", 1))
          .find("unknown dtype 'Q8'"),
      std::string::npos);
  EXPECT_NE(
      parseError(withHeader(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4))
          .find("negative"),
      std::string::npos);
  EXPECT_NE(
      parseError(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 4))
          .find("needs 8"),
      std::string::npos);
  EXPECT_NE(
      parseError(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 8))
          .find("outside"),
      std::string::npos);
  EXPECT_NE(parseError(withHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                       "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                  8))
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(
      parseError(
          withHeader(
              R"({"a": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})",
              0))
          .find("too large"),
      std::string::npos);
}

TEST(Safetensors, RejectsDuplicateKeys) {
  // JSON parsers keep the last of two equal keys; a one-byte edit of a name
  // makes such a file, which must not load with a tensor silently dropped.
  EXPECT_EQ(parseError(withHeader(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                      "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                                  8)),
            "tensor 'a' appears twice in the header");
  EXPECT_EQ(
      parseError(withHeader(
          R"({"w": {"dtype": "F32", "shape": [1], "shape": [2], "data_offsets": [0, 8]}})", 8)),
      "'w' has two 'shape' keys");
  EXPECT_EQ(parseError(withHeader(R"({"__metadata__": {"format": "pt", "format": "np"}})", 0)),
            "'__metadata__' has two 'format' keys");
  // Equal keys in different objects are fine.
  SafetensorsFile f;
  std::string error;
  std::vector<uint8_t> ok =
      withHeader(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                     "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                 8);
  EXPECT_TRUE(parseSafetensors(ok.data(), ok.size(), f, error)) << error;
  EXPECT_EQ(f.entries.size(), 2u);
}

TEST(Safetensors, AtomicWriteLeavesNoTemporary) {
  std::string path = tempPath("atomic.bin");
  std::string error;
  // What a writer killed before its rename left is removed by the next one.
  std::string killed = path + ".tmp-" + std::to_string(cnnc::test_files::deadPid());
  writeBytes(killed, {9});
  ASSERT_TRUE(cnnc::test_files::exists(killed));
  ASSERT_TRUE(writeFileAtomically(path, {1, 2, 3}, error)) << error;
  std::vector<uint8_t> back;
  ASSERT_TRUE(readSafetensorsFile(path, back, error));
  EXPECT_EQ(back, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_FALSE(cnnc::test_files::exists(killed));
  EXPECT_FALSE(writeFileAtomically(tempPath("no/such/dir/x"), {1}, error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
}

TEST(Safetensors, ManyTensorsKeepTheirOrderAndDuplicatesAreRefused) {
  // 100000 tensors: a header parser that is quadratic in them (nlohmann's
  // callback parser, ordered_json) takes minutes here, a linear one
  // milliseconds; the suite's time limit is what fails the first.
  const int n = 100000;
  std::string json = "{";
  for (int i = n - 1; i >= 0; --i)
    json += (i == n - 1 ? "" : ",") + std::string("\"t") + std::to_string(i) +
            "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" + std::to_string(i) + "," +
            std::to_string(i + 1) + "]}";
  std::vector<uint8_t> b = withHeader(json + "}", n);
  SafetensorsFile f;
  std::string error;
  ASSERT_TRUE(parseSafetensors(b.data(), b.size(), f, error)) << error;
  ASSERT_EQ(f.entries.size(), static_cast<size_t>(n));
  EXPECT_EQ(f.entries.front().name, "t99999") << "the header's order, not the keys' order";
  EXPECT_EQ(f.entries.back().name, "t0");
  std::vector<uint8_t> twice = withHeader(json + ",\"t5\":{}}", n);
  EXPECT_EQ(parseError(twice), "tensor 't5' appears twice in the header");
  // And the writer is linear too: it writes them back in the given order.
  std::vector<TensorToWrite> tensors;
  for (const SafetensorsEntry &e : f.entries)
    tensors.push_back({e.name, e.dtype, e.shape, e.data, e.bytes});
  std::vector<uint8_t> again = serializeSafetensors(tensors, {});
  SafetensorsFile g;
  ASSERT_TRUE(parseSafetensors(again.data(), again.size(), g, error)) << error;
  EXPECT_EQ(g.entries[1].name, "t99998");
}

TEST(Safetensors, StreamsAreReadOnlyAsFarAsTheirHeaderSays) {
  // /dev/zero: an 8-byte length of 0, then nothing more is read (before,
  // it was read until memory ran out).
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(readSafetensorsFile("/dev/zero", bytes, error)) << error;
  EXPECT_EQ(bytes.size(), 8u);
  EXPECT_NE(parseError(bytes).find("not valid JSON"), std::string::npos);
  // The generic reader: a limit for streams, and for regular files before
  // anything is read.
  EXPECT_FALSE(readFile("/dev/zero", bytes, error, 1 << 20));
  EXPECT_NE(error.find("more than the limit of 1048576 bytes"), std::string::npos) << error;
  std::string path = tempPath("limit.bin");
  writeBytes(path, std::vector<uint8_t>(100, 7));
  EXPECT_FALSE(readFile(path, bytes, error, 99));
  EXPECT_NE(error.find("has 100 bytes, more than the limit of 99"), std::string::npos) << error;
  ASSERT_TRUE(readFile(path, bytes, error, 100)) << error;
  EXPECT_EQ(bytes.size(), 100u);
}

std::vector<uint8_t> idx(uint8_t type, std::vector<uint32_t> dims, std::vector<uint8_t> data) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8)
      b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST(Idx, ReadsBytesAndBigEndianFloats) {
  std::string path = tempPath("a.idx");
  writeBytes(path, idx(0x08, {2, 2}, {0, 255, 7, 9}));
  IdxArray a;
  std::string error;
  ASSERT_TRUE(readIdx(path, a, error)) << error;
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.values, (std::vector<float>{0, 255, 7, 9}));
  writeBytes(path, idx(0x0D, {1}, {0x3f, 0xc0, 0, 0})); // 1.5f
  ASSERT_TRUE(readIdx(path, a, error)) << error;
  EXPECT_EQ(a.values, (std::vector<float>{1.5f}));
}

TEST(Idx, RejectsMalformedFiles) {
  std::string path = tempPath("bad.idx");
  IdxArray a;
  std::string error;
  writeBytes(path, {1, 0, 8, 1});
  EXPECT_FALSE(readIdx(path, a, error));
  EXPECT_NE(error.find("magic"), std::string::npos);
  writeBytes(path, idx(0x07, {1}, {0}));
  EXPECT_FALSE(readIdx(path, a, error));
  EXPECT_NE(error.find("element type"), std::string::npos);
  writeBytes(path, idx(0x08, {3, 3}, {1, 2}));
  EXPECT_FALSE(readIdx(path, a, error));
  EXPECT_NE(error.find("promise 9 bytes"), std::string::npos);
  EXPECT_FALSE(readIdx(tempPath("none.idx"), a, error));
}

TEST(Idx, ReadsOnlyWhatTheDimensionsPromise) {
  // A gzip stream whose first member holds a 2-value IDX file, followed by
  // bytes that are not gzip at all: the reader must stop after the values
  // (as it must stop after them in a gzip bomb), never reach the garbage.
  std::string path = tempPath("short.idx.gz");
  gzFile g = gzopen(path.c_str(), "wb");
  std::vector<uint8_t> b = idx(0x08, {2}, {3, 4});
  b.resize(b.size() + (1 << 20), 0); // a megabyte more than promised
  gzwrite(g, b.data(), static_cast<unsigned>(b.size()));
  gzclose(g);
  FILE *f = std::fopen(path.c_str(), "ab");
  std::fputs("\x1f\x8b not a gzip member", f);
  std::fclose(f);
  IdxArray a;
  std::string error;
  ASSERT_TRUE(readIdx(path, a, error)) << error;
  EXPECT_EQ(a.values, (std::vector<float>{3, 4}));
}

TEST(Netpbm, ReadsGrayAndColorToPlanes) {
  std::string path = tempPath("a.ppm");
  std::string text = "P6\n# comment\n2 1\n255\n";
  std::vector<uint8_t> b(text.begin(), text.end());
  for (uint8_t v : {255, 0, 51, 0, 255, 102})
    b.push_back(v);
  writeBytes(path, b);
  Image img;
  std::string error;
  ASSERT_TRUE(readNetpbm(path, img, error)) << error;
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.pixels, (std::vector<float>{1, 0, 0, 1, 0.2f, 0.4f})) << "C x H x W";
  text = "P2 2 1 4 0 4";
  writeBytes(path, std::vector<uint8_t>(text.begin(), text.end()));
  ASSERT_TRUE(readNetpbm(path, img, error)) << error;
  EXPECT_EQ(img.pixels, (std::vector<float>{0, 1}));
}

TEST(Netpbm, RejectsMalformedImages) {
  std::string path = tempPath("bad.pgm");
  Image img;
  std::string error;
  for (std::string text : {"P7 1 1 255\n", "P5 0 1 255\n", "P5 2 2 255\nab", "P2 1 1 3 9",
                           "P5 99999999 99999999 255\n"}) {
    writeBytes(path, std::vector<uint8_t>(text.begin(), text.end()));
    EXPECT_FALSE(readNetpbm(path, img, error)) << text;
    EXPECT_NE(error.find("not a valid PGM/PPM"), std::string::npos) << error;
  }
  // A header promising 2^28 pixels over a few bytes: refused as truncated
  // (before anything is allocated for them, which the lit test
  // Driver/cnnrun-limits.test checks under a memory limit).
  for (std::string text : {"P6 16384 16384 255\nabc", "P3 16384 16384 255\n1 2 3"}) {
    writeBytes(path, std::vector<uint8_t>(text.begin(), text.end()));
    EXPECT_FALSE(readNetpbm(path, img, error)) << text;
    EXPECT_NE(error.find("truncated pixel data"), std::string::npos) << error;
  }
  EXPECT_FALSE(readImage("/dev/zero", img, error));
  EXPECT_NE(error.find("neither a PNG nor a PGM/PPM image"), std::string::npos) << error;
}

TEST(Png, ReadsGrayAndColorAndRejectsGarbage) {
  std::string path = tempPath("a.png");
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = 2;
  image.height = 1;
  image.format = PNG_FORMAT_RGBA;
  const uint8_t rgba[8] = {255, 0, 51, 255, 0, 255, 102, 128};
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, rgba, 0, nullptr));
  Image img;
  std::string error;
  ASSERT_TRUE(readImage(path, img, error)) << error;
  EXPECT_EQ(img.channels, 3) << "alpha dropped";
  EXPECT_EQ(img.width, 2);
  ASSERT_EQ(img.pixels.size(), 6u);
  EXPECT_FLOAT_EQ(img.pixels[0], 1.0f);
  EXPECT_FLOAT_EQ(img.pixels[4], 0.2f);
  std::vector<uint8_t> garbage = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I'};
  writeBytes(path, garbage);
  EXPECT_FALSE(readImage(path, img, error));
  EXPECT_NE(error.find("not a readable PNG image"), std::string::npos) << error;
}

TEST(Png, SixteenBitAndPaletteSamplesAreTheStoredValues) {
  // 16 bits: the simplified writer stores linear data with a gAMA of 1.0;
  // the sample is its stored value / 65535 (as PIL and torchvision read it),
  // not converted to 8-bit sRGB.
  std::string path = tempPath("deep.png");
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = 3;
  image.height = 1;
  image.format = PNG_FORMAT_LINEAR_Y;
  const uint16_t gray[3] = {0, 32768, 65535};
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, gray, 0, nullptr));
  Image img;
  std::string error;
  ASSERT_TRUE(readImage(path, img, error)) << error;
  ASSERT_EQ(img.pixels.size(), 3u);
  EXPECT_EQ(img.channels, 1);
  EXPECT_FLOAT_EQ(img.pixels[1], 32768.0f / 65535.0f);
  EXPECT_FLOAT_EQ(img.pixels[2], 1.0f);
  // A palette image: RGB from the palette.
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = 2;
  image.height = 1;
  image.format = PNG_FORMAT_RGB_COLORMAP;
  image.colormap_entries = 2;
  const uint8_t colormap[6] = {10, 20, 30, 200, 100, 50};
  const uint8_t indices[2] = {1, 0};
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, indices, 0, colormap));
  ASSERT_TRUE(readImage(path, img, error)) << error;
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.pixels, (std::vector<float>{200 / 255.0f, 10 / 255.0f, 100 / 255.0f, 20 / 255.0f,
                                            50 / 255.0f, 30 / 255.0f}));
}

TEST(Random, SeedsAndStreamsAreReproducibleAndDistinct) {
  Random a(1, "conv1.weight"), b(1, "conv1.weight"), c(1, "conv2.weight"), d(2, "conv1.weight");
  float x = a.uniform(-1, 1);
  EXPECT_EQ(x, b.uniform(-1, 1));
  EXPECT_NE(x, c.uniform(-1, 1));
  EXPECT_NE(x, d.uniform(-1, 1));
  for (int i = 0; i < 1000; ++i) {
    float u = a.uniform();
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
  }
}

} // namespace
