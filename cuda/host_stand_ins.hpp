// What the kernels of cuda/kernels/ use of CUDA, as plain C++ on host threads, so that
// cuda/test_kernels_on_host.cpp can compile those kernels with g++ and run them where there is no
// GPU. A launch becomes calls with gridDim = 1: blockDim = 1 and one call for the kernels that
// loop over their items with a grid stride (the loop then visits every item in turn), blockDim =
// 32 and one host thread per lane for the half-warp kernels (run_warp), whose shuffles wait for
// all 32 threads as a warp's lanes run in step. Each stand-in computes what the CUDA built-in
// computes (the conversions and the division rounded the same way).
#pragma once

#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__

struct HostDim {
  uint32_t x;
};
inline HostDim blockIdx{0}, blockDim{1}, gridDim{1};
inline thread_local HostDim threadIdx{0};

inline std::mutex host_atomics;
inline uint32_t atomicAdd(uint32_t* address, uint32_t value) {
  const std::lock_guard<std::mutex> lock(host_atomics);
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

// The 32 lanes of the one warp run_warp starts: the values a shuffle exchanges, and a barrier.
struct HostWarp {
  std::mutex mutex;
  std::condition_variable turned;
  uint32_t waiting = 0, generation = 0;
  float values[32] = {};

  void barrier() {
    std::unique_lock<std::mutex> lock(mutex);
    const uint32_t mine = generation;
    if (++waiting == 32) {
      waiting = 0;
      ++generation;
      turned.notify_all();
    } else {
      turned.wait(lock, [&] { return generation != mine; });
    }
  }
};
inline HostWarp host_warp;

// v of the lane `offset` above in the same segment of `width` lanes, else the caller's own v.
inline float __shfl_down_sync(uint32_t, float v, int offset, int width) {
  const uint32_t lane = threadIdx.x & 31;
  host_warp.values[lane] = v;
  host_warp.barrier();
  const float result = lane % uint32_t(width) + uint32_t(offset) < uint32_t(width) ? host_warp.values[lane + offset] : v;
  host_warp.barrier();  // every lane has read before the next shuffle writes
  return result;
}

// Runs `lane` on 32 host threads with threadIdx.x = 0 .. 31 and blockDim.x = 32, as one warp.
inline void run_warp(const std::function<void()>& lane) {
  blockDim.x = 32;
  std::vector<std::thread> lanes;
  for (uint32_t t = 0; t < 32; ++t)
    lanes.emplace_back([t, &lane] {
      threadIdx.x = t;
      lane();
    });
  for (std::thread& t : lanes) t.join();
  blockDim.x = 1;
}
