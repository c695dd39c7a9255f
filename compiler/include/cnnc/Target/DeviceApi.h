//===- DeviceApi.h - The GPU APIs a model can be compiled for --*- C++ -*-===//
//
// The one list of device APIs: the `--target` shorthand, the Halide target
// feature that selects it, and the Halide runtime function the generated
// glue hands the runtime (ModelDescriptor.h's device_interface). No Halide
// here: the glue writer and the driver read it too.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_TARGET_DEVICEAPI_H
#define CNNC_TARGET_DEVICEAPI_H

#include <string>

namespace cnnc {

struct DeviceApi {
  const char *name;              ///< `--target=NAME`, and what `cnnrun info` prints
  const char *feature;           ///< the Halide target feature
  const char *interfaceFunction; ///< Halide runtime: its halide_device_interface_t
  /// A buffer may start at any float of a device allocation. OpenCL's
  /// sub-buffers must start at the device's base alignment (often 128
  /// bytes), so concats are not written in place there.
  bool viewsAtAnyOffset;
};

inline constexpr DeviceApi kDeviceApis[] = {
    {"cuda", "cuda", "halide_cuda_device_interface", true},
    {"opencl", "opencl", "halide_opencl_device_interface", false},
};

/// The capability a CUDA target gets when it names none (Halide would ask
/// the GPU at compile time): PTX for sm_80, which the driver compiles for
/// every later GPU (A100, RTX 30 and 40, H100, H200). docs/gpu.md.
inline constexpr const char *kDefaultCudaCapability = "cuda_capability_80";

/// The generated functions of ModelDescriptor.h's cnnc_device_optimizer,
/// by member: a GPU model's optimizer (DeviceOptimizer.cpp).
struct DeviceKernel {
  const char *member;   ///< of cnnc_device_optimizer
  const char *function; ///< the generated function (its argv form adds `_argv`)
};
inline constexpr DeviceKernel kDeviceOptimizerKernels[] = {
    {"sgd", "cnnc_device_sgd"},
    {"sgd_momentum", "cnnc_device_sgd_momentum"},
    {"adam", "cnnc_device_adam"},
};

/// The device API of a canonical Halide target string, or nullptr (CPU).
inline const DeviceApi *deviceApiOf(const std::string &target) {
  std::string dashed = "-" + target + "-";
  for (const DeviceApi &api : kDeviceApis)
    if (dashed.find("-" + std::string(api.feature) + "-") != std::string::npos)
      return &api;
  return nullptr;
}

} // namespace cnnc

#endif // CNNC_TARGET_DEVICEAPI_H
