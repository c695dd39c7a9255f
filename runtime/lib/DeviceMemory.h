//===- DeviceMemory.h - Device copies of a GPU context's arrays -*- C++ -*-===//
//
// For a model compiled for a GPU (ModelDescriptor.h's device_interface),
// every array a step reads or writes has a device copy, allocated on first
// use and kept for the context's life: the steps run on the device copies,
// and only what the runtime itself reads or writes crosses the bus (the
// inputs and outputs of a call, the loss's logits and gradient, the
// gradients and batch statistics the host-side optimizer reads, and the
// parameters after the host changed them). docs/gpu.md.
//
// Internal to the runtime; only the Halide runtime's device interface.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_DEVICEMEMORY_H
#define CNNC_RUNTIME_DEVICEMEMORY_H

#include <HalideRuntime.h>

#include <cstddef>
#include <map>
#include <string>
#include <utility>

namespace cnnc::rt {

/// Which of a context's arrays a device copy mirrors (Scratch: the slots
/// of one call, such as cnnc_augment's; Hyper: the optimizer's rows of
/// hyperparameters).
enum class Space {
  Slot,
  TrainSlot,
  Scratch,
  Param,
  Grad,
  Derived,
  Momentum,
  ExpAvg,
  ExpAvgSq,
  Hyper
};

/// Throws a Failure saying what is missing when the driver of `device`
/// ("cuda", "opencl") cannot be loaded (DeviceLibraries.cpp).
void requireDeviceDriver(const std::string &device);

class DeviceMemory {
public:
  /// `device`: the API's name (ModelDescriptor.h), for messages.
  DeviceMemory(const halide_device_interface_t *interface, std::string device);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory &) = delete;
  DeviceMemory &operator=(const DeviceMemory &) = delete;

  /// A 1-D range of a device copy, to point a step's buffer at.
  class Range {
  public:
    Range() = default;
    ~Range();
    Range(const Range &) = delete;
    Range &operator=(const Range &) = delete;
    Range(Range &&other) noexcept;

  private:
    friend class DeviceMemory;
    halide_buffer_t buffer{};
    halide_dimension_t dim{};
  };

  /// Points `view`, a buffer over `host + offset` where `host` is array
  /// (space, index) of `count` floats, at the same floats of the device
  /// copy, uploading the host array first where it is newer. `range` holds
  /// the device crop until the step has run.
  void attach(Space space, int index, float *host, size_t count, size_t offset,
              halide_buffer_t &view, Range &range);
  /// The device copy of array (space, index) was written by a step.
  void deviceWrote(Space space, int index);
  /// Copies floats [offset, offset + n) of the array to the device, or back.
  void upload(Space space, int index, float *host, size_t count, size_t offset, size_t n);
  void download(Space space, int index, float *host, size_t count, size_t offset, size_t n);
  /// The host copy of the array, brought up to date where a step wrote it
  /// last.
  void toHost(Space space, int index, float *host, size_t count);
  /// Brings the host copy of every array of `space` up to date.
  void toHostAll(Space space);
  /// Every array of `space` (or only array `index`) changed on the host:
  /// each is uploaded before a step reads it.
  void hostWrote(Space space, int index = -1);
  /// Frees the device copies of `space` (or only of array `index`).
  void forget(Space space, int index = -1);
  /// Waits for the device's work (for the profile's step times).
  void synchronize();

private:
  struct Copy {
    halide_buffer_t whole{};
    halide_dimension_t dim{};
    float *host = nullptr;
    size_t count = 0;
    bool hostNewer = false;   ///< a step must upload it before reading
    bool deviceNewer = false; ///< the host must download it before reading
  };
  const halide_device_interface_t *interface;
  std::string device;
  bool driverFound = false;
  std::map<std::pair<int, int>, Copy> copies;

  Copy &copyOf(Space space, int index, float *host, size_t count);
  void crop(Copy &c, size_t offset, size_t n, Range &range);
  void release(Copy &c);
};

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_DEVICEMEMORY_H
