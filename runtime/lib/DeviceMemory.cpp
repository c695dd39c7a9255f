//===- DeviceMemory.cpp - Device copies of a GPU context's arrays ---------===//
#include "ModelContext.h"

#include <cstdint>

namespace cnnc::rt {
namespace {

std::pair<int, int> keyOf(Space space, int index) { return {static_cast<int>(space), index}; }

/// A Halide runtime status turned into a Failure naming what failed.
void check(int status, const char *what) {
  if (status == 0)
    return;
  std::string message =
      halideMessage.empty() ? "Halide runtime error " + std::to_string(status) : halideMessage;
  halideMessage.clear();
  throw Failure(statusOfHalide(status), std::string(what) + ": " + message);
}

} // namespace

DeviceMemory::DeviceMemory(const halide_device_interface_t *interface, std::string device)
    : interface(interface), device(std::move(device)) {
  // The pipelines' own intermediate buffers are kept for the next call
  // rather than freed and allocated again at every step.
  halide_reuse_device_allocations(nullptr, true);
}

DeviceMemory::~DeviceMemory() {
  for (auto &[key, c] : copies)
    release(c);
}

DeviceMemory::Range::~Range() {
  if (buffer.device)
    halide_device_release_crop(nullptr, &buffer);
}

DeviceMemory::Range::Range(Range &&other) noexcept : buffer(other.buffer), dim(other.dim) {
  buffer.dim = &dim;
  other.buffer.device = 0;
}

void DeviceMemory::release(Copy &c) {
  if (c.whole.device)
    halide_device_free(nullptr, &c.whole);
  c = Copy();
}

DeviceMemory::Copy &DeviceMemory::copyOf(Space space, int index, float *host, size_t count) {
  Copy &c = copies[keyOf(space, index)];
  if (c.whole.device && c.host == host && c.count == count)
    return c;
  release(c);
  if (!driverFound) {
    requireDeviceDriver(device);
    driverFound = true;
  }
  c.host = host;
  c.count = count;
  c.dim = {0, static_cast<int32_t>(std::max<size_t>(count, 1)), 1, 0};
  c.whole.host = reinterpret_cast<uint8_t *>(host);
  c.whole.type = {halide_type_float, 32, 1};
  c.whole.dimensions = 1;
  c.whole.dim = &c.dim;
  halideMessage.clear();
  check(halide_device_malloc(nullptr, &c.whole, interface), "cannot allocate device memory");
  c.hostNewer = true; // nothing is on the device yet
  c.deviceNewer = false;
  return c;
}

void DeviceMemory::crop(Copy &c, size_t offset, size_t n, Range &range) {
  range.buffer = c.whole;
  range.buffer.device = 0;
  range.buffer.device_interface = nullptr;
  range.buffer.host = c.whole.host + offset * sizeof(float);
  range.buffer.flags = 0;
  range.dim = {static_cast<int32_t>(offset), static_cast<int32_t>(std::max<size_t>(n, 1)), 1, 0};
  range.buffer.dim = &range.dim;
  check(halide_device_crop(nullptr, &c.whole, &range.buffer), "cannot address device memory");
}

void DeviceMemory::attach(Space space, int index, float *host, size_t count, size_t offset,
                          halide_buffer_t &view, Range &range) {
  Copy &c = copyOf(space, index, host, count);
  if (c.hostNewer) {
    c.whole.set_host_dirty(true);
    check(halide_copy_to_device(nullptr, &c.whole, interface), "cannot copy to the device");
    c.hostNewer = false;
  }
  crop(c, offset, count - offset, range);
  view.device = range.buffer.device;
  view.device_interface = range.buffer.device_interface;
  view.flags = 0;
}

void DeviceMemory::deviceWrote(Space space, int index) {
  auto it = copies.find(keyOf(space, index));
  if (it != copies.end())
    it->second.deviceNewer = true;
}

void DeviceMemory::upload(Space space, int index, float *host, size_t count, size_t offset,
                          size_t n) {
  Copy &c = copyOf(space, index, host, count);
  Range range;
  crop(c, offset, n, range);
  range.buffer.set_host_dirty(true);
  check(halide_copy_to_device(nullptr, &range.buffer, interface), "cannot copy to the device");
}

void DeviceMemory::download(Space space, int index, float *host, size_t count, size_t offset,
                            size_t n) {
  Copy &c = copyOf(space, index, host, count);
  Range range;
  crop(c, offset, n, range);
  range.buffer.set_device_dirty(true);
  check(halide_copy_to_host(nullptr, &range.buffer), "cannot copy from the device");
}

void DeviceMemory::toHost(Space space, int index, float *host, size_t count) {
  auto it = copies.find(keyOf(space, index));
  if (it == copies.end() || !it->second.deviceNewer || it->second.host != host)
    return;
  Copy &c = it->second;
  c.whole.set_device_dirty(true);
  check(halide_copy_to_host(nullptr, &c.whole), "cannot copy from the device");
  c.deviceNewer = false;
}

void DeviceMemory::toHostAll(Space space) {
  for (auto &[key, c] : copies)
    if (key.first == static_cast<int>(space))
      toHost(space, key.second, c.host, c.count);
}

void DeviceMemory::hostWrote(Space space, int index) {
  for (auto &[key, c] : copies)
    if (key.first == static_cast<int>(space) && (index < 0 || key.second == index)) {
      c.hostNewer = true;
      c.deviceNewer = false;
    }
}

void DeviceMemory::forget(Space space, int index) {
  for (auto &[key, c] : copies)
    if (key.first == static_cast<int>(space) && (index < 0 || key.second == index))
      release(c);
}

void DeviceMemory::synchronize() {
  for (auto &[key, c] : copies)
    if (c.whole.device) {
      check(halide_device_sync(nullptr, &c.whole), "the device failed");
      return;
    }
}

} // namespace cnnc::rt
