// A std::vector whose elements start on a 64-byte cache line. The kernels read activations and
// their gradients 16 floats (64 bytes, one AVX-512 vector) at a time along rows of `stride`
// samples, stride a multiple of 16: with the row starts on line boundaries no such load straddles
// two cache lines. malloc guarantees only 16 bytes, so without this the alignment, and the step
// time with it, changed with the allocation history of the process. std::aligned_alloc rather
// than the aligned operator new: the latter, from the statically linked libstdc++, would add a
// libgcc_s symbol version (GCC_3.4, for its power-of-two check) to what the prebuilt binary needs.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace deepr {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
  using value_type = T;

  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T) - kCacheLine) throw std::bad_alloc();
    const std::size_t bytes = (n * sizeof(T) + kCacheLine - 1) / kCacheLine * kCacheLine;  // a multiple, as C11 asks
    void* p = std::aligned_alloc(kCacheLine, bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }

  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept { return false; }
};

template <class T>
using CacheLineVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace deepr
