//===- DeviceLibraries.cpp - Where the GPU drivers are found --------------===//
//
// Halide's runtime loads the CUDA driver as `libcuda.so` and OpenCL as
// `libOpenCL.so`: the unversioned names, which only development packages
// install. Driver installs and containers ship `libcuda.so.1` and
// `libOpenCL.so.1`. These definitions replace the runtime's weak ones and
// look for the versioned names first. (In a CPU model nothing calls them.)
//
//===----------------------------------------------------------------------===//
#include "ModelContext.h"

#include <dlfcn.h>

#include <atomic>

namespace {

/// The symbol `name` of the first of `libraries` that loads, or of the
/// process (where an application loaded the driver itself).
void *driverSymbol(std::atomic<void *> &handle, const char *const *libraries, const char *name) {
  if (void *symbol = dlsym(RTLD_DEFAULT, name))
    return symbol;
  void *h = handle.load();
  for (const char *const *lib = libraries; !h && *lib; ++lib) {
    h = dlopen(*lib, RTLD_LAZY | RTLD_GLOBAL);
    if (h)
      handle.store(h);
  }
  return h ? dlsym(h, name) : nullptr;
}

std::atomic<void *> cudaDriver{nullptr}, openclLibrary{nullptr};

const char *const kCudaLibraries[] = {"libcuda.so.1", "libcuda.so", nullptr};
const char *const kOpenclLibraries[] = {"libOpenCL.so.1", "libOpenCL.so", nullptr};

} // namespace

namespace cnnc::rt {

void requireDeviceDriver(const std::string &device) {
  bool cuda = device == "cuda";
  const char *const *libraries = cuda ? kCudaLibraries : kOpenclLibraries;
  std::string tried;
  for (const char *const *lib = libraries; *lib; ++lib) {
    void *h = dlopen(*lib, RTLD_LAZY | RTLD_GLOBAL);
    if (h) {
      (cuda ? cudaDriver : openclLibrary).store(h);
      return;
    }
    tried += std::string(tried.empty() ? "" : "; ") + dlerror();
  }
  throw Failure(CNNC_ERROR_RUNTIME,
                "this model runs on " + device + ", and no " +
                    (cuda ? "CUDA driver" : "OpenCL library") + " can be loaded (" + tried +
                    (cuda ? "): is an NVIDIA driver installed?"
                          : "): install an OpenCL implementation (e.g. pocl-opencl-icd)"));
}

} // namespace cnnc::rt

extern "C" {

void *halide_cuda_get_symbol(void *, const char *name) {
  return driverSymbol(cudaDriver, kCudaLibraries, name);
}

void *halide_opencl_get_symbol(void *, const char *name) {
  return driverSymbol(openclLibrary, kOpenclLibraries, name);
}

} // extern "C"
