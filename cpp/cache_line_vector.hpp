// A std::vector whose elements start on a 64-byte cache line. The kernels read activations and
// their gradients 16 floats (64 bytes, one AVX-512 vector) at a time along rows of `stride`
// samples, stride a multiple of 16: with the row starts on line boundaries no such load straddles
// two cache lines. malloc guarantees only 16 bytes, so without this the alignment, and the step
// time with it, changed with the allocation history of the process.
#pragma once

#include <cstddef>
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

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kCacheLine)); }

  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept { return false; }
};

template <class T>
using CacheLineVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace deepr
