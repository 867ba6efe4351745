// What the kernels of cuda/kernels/ use of CUDA, as plain C++ for one host thread, so that
// cuda/test_kernels_on_host.cpp can compile those kernels with g++ and run them where there is no
// GPU. A launch becomes a call with gridDim = blockDim = 1: each grid-stride loop then visits every
// item in turn. Each stand-in computes what the CUDA built-in computes (the conversions and the
// division rounded the same way); atomics need no atomicity on one thread. The half-warp kernels
// (kernels/backward.cuh) need 32 threads in step for their shuffles and are not compiled this way.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__

struct HostDim {
  uint32_t x;
};
inline HostDim blockIdx{0}, threadIdx{0}, blockDim{1}, gridDim{1};

inline uint32_t atomicAdd(uint32_t* address, uint32_t value) {
  const uint32_t old = *address;
  *address = old + value;
  return old;
}
inline int32_t __float2int_rz(float x) { return int32_t(x); }  // toward zero, as C++'s conversion
inline float __int2float_rn(int32_t x) { return float(x); }    // to nearest, as C++'s conversion
inline float __int_as_float(int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline float __fdiv_rn(float a, float b) { return a / b; }  // IEEE division, correctly rounded
using std::isfinite;
