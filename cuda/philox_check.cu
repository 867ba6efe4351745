// The random streams' scalar definitions (cpp/philox.hpp, cpp/philox_distributions.hpp) on an
// NVIDIA GPU: a kernel draws normals, uniform integers and signs, and the host compares them bit
// for bit with the same functions run on the CPU. scripts/cuda-compile-check.sh compiles it on
// every CI run (CI has no GPU); on a machine with one, run the binary it builds. The CUDA backend
// (issue 15) builds its noise, regrowth and sign kernels on these functions.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "philox_distributions.hpp"

namespace {

// Draw i of each kind: normal i of a noise stream (across the end of the 32-bit block counter), the
// uniform integer of a rewiring stream that starts at block i, with a bound that changes with i
// (2^63 + 1 rejects half of all halves), and the sign of a position above 2^32.
struct Draw {
  float normal;
  uint64_t uniform;
  bool negative;
};

DEEPR_HOST_DEVICE Draw draw(uint64_t seed, uint32_t i) {
  const deepr::RngStream noise{seed, 0x100000005ull, 2, deepr::Purpose::kNoise};
  const deepr::RngStream rewire{seed, 3, 1, deepr::Purpose::kRewire};
  uint32_t next_block = i;
  const uint64_t bound = i % 3 == 0 ? (uint64_t(1) << 63) + 1 : 235200 + i;
  return {deepr::normal(noise, (uint64_t(1) << 34) - 64 + i), deepr::uniform_below(rewire, next_block, bound),
          deepr::position_is_negative(seed, 1, (uint64_t(i) << 32) + i)};
}

__global__ void draw_all(uint64_t seed, uint32_t count, Draw* out) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) out[i] = draw(seed, i);
}

bool ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) std::printf("philox_check: %s: %s\n", what, cudaGetErrorString(status));
  return status == cudaSuccess;
}

}  // namespace

int main() {
  const uint64_t seed = 0x9E3779B97F4A7C15ull;
  const uint32_t count = 1 << 20;
  Draw* device_draws = nullptr;
  if (!ok(cudaMalloc(&device_draws, count * sizeof(Draw)), "cudaMalloc")) return 1;
  draw_all<<<(count + 255) / 256, 256>>>(seed, count, device_draws);
  std::vector<Draw> gpu(count);
  const bool copied = ok(cudaGetLastError(), "kernel launch") &&
                      ok(cudaMemcpy(gpu.data(), device_draws, count * sizeof(Draw), cudaMemcpyDeviceToHost), "copy");
  cudaFree(device_draws);
  if (!copied) return 1;
  uint32_t differing = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const Draw cpu = draw(seed, i);
    differing += std::memcmp(&cpu.normal, &gpu[i].normal, sizeof(float)) != 0 || cpu.uniform != gpu[i].uniform ||
                 cpu.negative != gpu[i].negative;
  }
  std::printf("philox_check: %u of %u GPU draws (normal, uniform integer, sign) differ from the CPU's\n", differing,
              count);
  return differing == 0 ? 0 : 1;
}
