//===- Safetensors.cpp - Reading and writing safetensors files ------------===//
#include "cnnc/runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <unistd.h>

namespace cnnc::rt {

namespace {

/// Headers larger than this are refused (the reference implementation's
/// limit is 100 MB as well).
constexpr uint64_t kMaxHeader = 100u << 20;

struct DuplicateKey {};

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
  nlohmann::ordered_json header;
  // JSON parsers keep one of two equal keys: refuse them instead, since a
  // one-byte edit of a name would otherwise drop a tensor silently.
  struct Object {
    std::string name; ///< the key that holds the object ("" for the header)
    std::set<std::string> keys;
  };
  std::vector<Object> open;
  std::string lastKey, duplicate;
  using Event = nlohmann::ordered_json::parse_event_t;
  auto noDuplicateKeys = [&](int, Event event, nlohmann::ordered_json &parsed) {
    if (event == Event::object_start) {
      open.push_back({open.empty() ? "" : lastKey, {}});
    } else if (event == Event::object_end) {
      open.pop_back();
    } else if (event == Event::key) {
      lastKey = parsed.get<std::string>();
      if (!open.back().keys.insert(lastKey).second) {
        duplicate = open.size() == 1 ? "tensor '" + lastKey + "' appears twice in the header"
                                     : "'" + open.back().name + "' has two '" + lastKey + "' keys";
        throw DuplicateKey{};
      }
    }
    return true;
  };
  try {
    header = nlohmann::ordered_json::parse(bytes + 8, bytes + 8 + headerSize, noDuplicateKeys);
  } catch (const nlohmann::json::exception &e) {
    error = std::string("header is not valid JSON: ") + e.what();
    return false;
  } catch (const DuplicateKey &) {
    error = duplicate;
    return false;
  }
  if (!header.is_object()) {
    error = "header is not a JSON object";
    return false;
  }
  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    const nlohmann::ordered_json &v = it.value();
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
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const TensorToWrite &t : tensors) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string text = header.dump();
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

bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = sysError("cannot open", path);
    return false;
  }
  out.clear();
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    out.insert(out.end(), chunk, chunk + got);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) {
    error = sysError("cannot read", path);
    return false;
  }
  return true;
}

bool writeFileAtomically(const std::string &path, const std::vector<uint8_t> &bytes,
                         std::string &error) {
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
