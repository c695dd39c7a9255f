//===- Safetensors.cpp - Reading and writing safetensors files ------------===//
#include "cnnc/runtime/Safetensors.h"
#include "cnnc/runtime/StaleFiles.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace cnnc::rt {

namespace {

/// Headers larger than this are refused (the reference implementation's
/// limit is 100 MB as well).
constexpr uint64_t kMaxHeader = 100u << 20;

/// A pass over the header that looks only at keys: it refuses a key twice in
/// one object (JSON parsers keep one of them silently, so a one-byte edit of
/// a name would drop a tensor) and lists the tensors in the header's order.
/// A parse callback could do the same, but nlohmann's callback parser scans
/// the enclosing object at each object's end (quadratic in the tensors), and
/// ordered_json inserts in linear time: the header itself is parsed into a
/// map afterwards.
struct HeaderKeys : nlohmann::json_sax<nlohmann::json> {
  struct Object {
    std::string name; ///< the key that holds the object ("" for the header)
    std::set<std::string> keys;
  };
  std::vector<Object> open;
  std::string lastKey, duplicate, syntaxError;
  std::vector<std::string> order; ///< the header's keys

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t &) override { return true; }
  bool string(string_t &) override { return true; }
  bool binary(binary_t &) override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool start_object(std::size_t) override {
    open.push_back({open.empty() ? "" : lastKey, {}});
    return true;
  }
  bool end_object() override {
    open.pop_back();
    return true;
  }
  bool key(string_t &key) override {
    lastKey = key;
    if (!open.back().keys.insert(key).second) {
      duplicate = open.size() == 1 ? "tensor '" + key + "' appears twice in the header"
                                   : "'" + open.back().name + "' has two '" + key + "' keys";
      return false;
    }
    if (open.size() == 1)
      order.push_back(key);
    return true;
  }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &e) override {
    syntaxError = e.what();
    return false;
  }
};

std::string sysError(const std::string &what, const std::string &path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

} // namespace

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  for (const SafetensorsEntry &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

size_t dtypeSize(const std::string &dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64")
    return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32")
    return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16")
    return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL")
    return 1;
  return 0;
}

bool parseSafetensors(const uint8_t *bytes, size_t size, SafetensorsFile &out, std::string &error) {
  out = SafetensorsFile();
  if (size < 8) {
    error = "truncated: " + std::to_string(size) + " bytes, fewer than the 8-byte header length";
    return false;
  }
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | bytes[i];
  if (headerSize > kMaxHeader || headerSize > size - 8) {
    error = "header length " + std::to_string(headerSize) + " exceeds the file (" +
            std::to_string(size) + " bytes)";
    return false;
  }
  const uint8_t *data = bytes + 8 + headerSize;
  size_t dataSize = size - 8 - headerSize;
  // Keys first (HeaderKeys), then the header as a map-based object.
  HeaderKeys keys;
  if (!nlohmann::json::sax_parse(bytes + 8, bytes + 8 + headerSize, &keys)) {
    error =
        !keys.duplicate.empty() ? keys.duplicate : "header is not valid JSON: " + keys.syntaxError;
    return false;
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + headerSize);
  } catch (const nlohmann::json::exception &e) {
    error = std::string("header is not valid JSON: ") + e.what();
    return false;
  }
  if (!header.is_object()) {
    error = "header is not a JSON object";
    return false;
  }
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const std::string &name : keys.order) {
    const nlohmann::json &v = header.at(name);
    if (name == "__metadata__") {
      if (!v.is_object()) {
        error = "__metadata__ is not an object";
        return false;
      }
      for (auto m = v.begin(); m != v.end(); ++m)
        if (m.value().is_string())
          out.metadata[m.key()] = m.value().get<std::string>();
      continue;
    }
    auto bad = [&](const std::string &why) {
      error = "tensor '" + name + "': " + why;
      return false;
    };
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
      return bad("needs dtype, shape and data_offsets");
    SafetensorsEntry e;
    e.name = name;
    if (!v["dtype"].is_string())
      return bad("dtype is not a string");
    e.dtype = v["dtype"].get<std::string>();
    size_t elementSize = dtypeSize(e.dtype);
    if (elementSize == 0)
      return bad("unknown dtype '" + e.dtype + "'");
    if (!v["shape"].is_array())
      return bad("shape is not an array");
    uint64_t elements = 1;
    for (const auto &d : v["shape"]) {
      if (!d.is_number_unsigned())
        return bad("shape has a negative or non-integer dimension");
      uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim / elementSize)
        return bad("shape is too large");
      elements *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto &offsets = v["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      return bad("data_offsets is not a pair of non-negative integers");
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] lie outside the " + std::to_string(dataSize) + " data bytes");
    if (end - begin != elements * elementSize)
      return bad("data_offsets span " + std::to_string(end - begin) + " bytes but " + e.dtype +
                 " x shape needs " + std::to_string(elements * elementSize));
    e.data = data + begin;
    e.bytes = end - begin;
    ranges.emplace_back(begin, end);
    out.entries.push_back(std::move(e));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) {
      error = "tensors overlap at data byte " + std::to_string(ranges[i].first);
      return false;
    }
  return true;
}

std::vector<uint8_t> serializeSafetensors(const std::vector<TensorToWrite> &tensors,
                                          const std::map<std::string, std::string> &metadata) {
  // The header object written entry by entry, in the tensors' order (a JSON
  // object built first would insert in linear time, ordered_json's way).
  std::string text = "{";
  auto member = [&](const std::string &key, const nlohmann::ordered_json &value) {
    text += (text.size() > 1 ? "," : "") + nlohmann::json(key).dump() + ":" + value.dump();
  };
  if (!metadata.empty())
    member("__metadata__", metadata);
  size_t offset = 0;
  for (const TensorToWrite &t : tensors) {
    member(t.name,
           {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes}}});
    offset += t.bytes;
  }
  text += "}";
  // Pad the header with spaces to keep the data 8-byte aligned.
  while ((text.size() + 8) % 8 != 0)
    text.push_back(' ');
  std::vector<uint8_t> bytes(8 + text.size() + offset);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  uint8_t *data = bytes.data() + 8 + text.size();
  for (const TensorToWrite &t : tensors) {
    if (t.bytes)
      std::memcpy(data, t.data, t.bytes);
    data += t.bytes;
  }
  return bytes;
}

namespace {

/// Appends up to `count` bytes of `f` to `out`, in chunks (memory grows with
/// what arrives, not with what a header promised). False on a read error.
bool append(FILE *f, uint64_t count, std::vector<uint8_t> &out) {
  uint8_t chunk[1 << 16];
  while (count > 0) {
    size_t got = std::fread(chunk, 1, std::min<uint64_t>(count, sizeof chunk), f);
    out.insert(out.end(), chunk, chunk + got);
    count -= got;
    if (got == 0)
      break;
  }
  return !std::ferror(f);
}

/// `path` opened for reading, and whether it is a regular file of `size` bytes.
FILE *openForReading(const std::string &path, bool &regular, uint64_t &size, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = sysError("cannot open", path);
    return nullptr;
  }
  struct stat st;
  regular = ::fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  size = regular ? static_cast<uint64_t>(st.st_size) : 0;
  return f;
}

/// The end of the data a safetensors header declares (the largest
/// data_offsets end), 0 when the header is not one.
uint64_t declaredDataEnd(const std::vector<uint8_t> &bytes) {
  nlohmann::json header = nlohmann::json::parse(bytes.begin() + 8, bytes.end(), nullptr, false);
  uint64_t end = 0;
  if (header.is_object())
    for (const auto &entry : header)
      if (entry.is_object() && entry.contains("data_offsets") && entry["data_offsets"].is_array() &&
          entry["data_offsets"].size() == 2 && entry["data_offsets"][1].is_number_unsigned())
        end = std::max(end, entry["data_offsets"][1].get<uint64_t>());
  return end;
}

} // namespace

bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error,
              uint64_t limit) {
  bool regular;
  uint64_t size;
  FILE *f = openForReading(path, regular, size, error);
  if (!f)
    return false;
  out.clear();
  if (regular && size > limit) {
    std::fclose(f);
    error = "'" + path + "' has " + std::to_string(size) + " bytes, more than the limit of " +
            std::to_string(limit);
    return false;
  }
  if (regular)
    out.reserve(size);
  // A regular file is read to its end (it may have grown); anything else
  // (a pipe, a device) one byte past the limit at most.
  bool ok = append(f, limit == UINT64_MAX ? limit : limit + 1, out);
  std::fclose(f);
  if (!ok) {
    error = sysError("cannot read", path);
    return false;
  }
  if (out.size() > limit) {
    error = "'" + path + "' holds more than the limit of " + std::to_string(limit) + " bytes";
    out.clear();
    return false;
  }
  return true;
}

bool readSafetensorsFile(const std::string &path, std::vector<uint8_t> &out, std::string &error) {
  bool regular;
  uint64_t size;
  FILE *f = openForReading(path, regular, size, error);
  if (!f)
    return false;
  out.clear();
  bool ok;
  if (regular) {
    out.reserve(size);
    ok = append(f, UINT64_MAX, out);
  } else {
    // A stream is read as far as its own header says: the length, the
    // header (if not over the limit), the data it declares. /dev/zero ends
    // after 8 bytes (an empty header), an endless stream after its data.
    ok = append(f, 8, out);
    uint64_t headerSize = 0;
    for (int i = 7; ok && out.size() == 8 && i >= 0; --i)
      headerSize = headerSize << 8 | out[i];
    if (ok && out.size() == 8 && headerSize <= kMaxHeader) {
      ok = append(f, headerSize, out);
      if (ok && out.size() == 8 + headerSize)
        ok = append(f, declaredDataEnd(out), out);
    }
  }
  std::fclose(f);
  if (!ok) {
    error = sysError("cannot read", path);
    return false;
  }
  return true;
}

bool checkReplaceable(const std::string &path, std::string &error) {
  // The rename would replace a device, a pipe or a directory's entry by a
  // regular file (as root, /dev/null itself): refused, as cnnc -o does.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    error = "cannot write '" + path + "': it exists and is not a regular file";
    return false;
  }
  return true;
}

bool writeFileAtomically(const std::string &path, const std::vector<uint8_t> &bytes,
                         std::string &error) {
  if (!checkReplaceable(path, error))
    return false;
  removeStaleTemporaries(path); // of writers killed before their rename
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    error = sysError("cannot create", tmp);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      error = sysError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(w);
  }
  bool synced = ::fsync(fd) == 0;
  bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    error = sysError("cannot write", tmp);
    ::unlink(tmp.c_str());
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = sysError("cannot rename the temporary file onto", path);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

} // namespace cnnc::rt
