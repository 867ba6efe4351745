// The device interface's header (cpp/device/device_abi.h) under nvcc: a kernel takes the C views of
// a sparse and a dense store by value and runs the forward pass on them, and a device function
// gives a regrown slot the sign the CPU device gives it. scripts/cuda-compile-check.sh compiles it
// on every CI run (CI has no GPU); on a machine with one, run the binary it builds: it compares the
// GPU's outputs and signs with the same functions run on the host. The CUDA library (issue 15)
// implements the whole table; this only shows that its kernels can take the ABI's structs.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "device/device_abi.h"
#include "philox_distributions.hpp"

namespace {

// y[out][b] = bias[out] + sum over the slots of row `out` of w x[in][b]: one output of the forward pass.
DEEPR_HOST_DEVICE float forward_value(const deepr_sparse_view& w, const deepr_dense_view& bias, const float* x,
                                      uint32_t stride, uint32_t out, uint32_t b) {
  float sum = bias.size == 0 ? 0.0f : bias.value[out];
  for (uint32_t k = w.row_start[out]; k < w.row_start[out + 1]; ++k) {
    const float weight = (w.source[k] & DEEPR_SIGN_BIT) ? -w.theta[k] : w.theta[k];
    sum += weight * x[(w.source[k] & ~DEEPR_SIGN_BIT) * stride + b];
  }
  return sum;
}

// What rewire writes into source[] for a position born in store w.
DEEPR_HOST_DEVICE uint32_t born_source(const deepr_sparse_view& w, uint64_t seed, uint64_t position) {
  return uint32_t(position % w.n_in) | (deepr::position_is_negative(seed, w.id, position) ? DEEPR_SIGN_BIT : 0u);
}

__global__ void forward(deepr_sparse_view w, deepr_dense_view bias, const float* x, float* y, uint32_t stride) {
  const uint32_t out = blockIdx.x, b = threadIdx.x;
  if (out < w.n_out && b < stride) y[out * stride + b] = forward_value(w, bias, x, stride, out, b);
}

__global__ void born_sources(deepr_sparse_view w, uint64_t seed, uint32_t count, uint32_t* source) {
  const uint32_t n = blockIdx.x * blockDim.x + threadIdx.x;
  if (n < count) source[n] = born_source(w, seed, uint64_t(n) * 7919);
}

bool ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) std::printf("device_abi_check: %s: %s\n", what, cudaGetErrorString(status));
  return status == cudaSuccess;
}

template <class T>
T* to_device(const std::vector<T>& host) {
  T* p = nullptr;
  if (!ok(cudaMalloc(&p, host.size() * sizeof(T)), "cudaMalloc")) return nullptr;
  return ok(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "copy") ? p : nullptr;
}

}  // namespace

int main() {
  // A 40 -> 30 store: output j has j % 7 slots (some rows empty), inputs spread over the row.
  const uint32_t n_in = 40, n_out = 30, stride = 32;
  const uint64_t seed = 5;
  std::vector<uint32_t> row_start{0}, source;
  std::vector<float> theta, bias(n_out), x(size_t(n_in) * stride);
  for (uint32_t out = 0; out < n_out; ++out) {
    for (uint32_t k = 0; k < out % 7; ++k) {
      const uint32_t in = k * 5 + out % 5;
      source.push_back(in | (deepr::position_is_negative(seed, 1, uint64_t(out) * n_in + in) ? DEEPR_SIGN_BIT : 0u));
      theta.push_back(0.1f * float(k + 1));
    }
    row_start.push_back(uint32_t(source.size()));
    bias[out] = 0.01f * float(out);
  }
  for (size_t n = 0; n < x.size(); ++n) x[n] = std::sin(float(n));
  const deepr_sparse_view host_w{n_in, n_out, 1, uint32_t(theta.size()), row_start.data(), source.data(), theta.data(), 0, {}};
  const deepr_dense_view host_bias{n_out, bias.data(), 0, {}};
  deepr_sparse_view w = host_w;
  deepr_dense_view b = host_bias;
  w.row_start = to_device(row_start);
  w.source = to_device(source);
  w.theta = to_device(theta);
  b.value = to_device(bias);
  const float* dx = to_device(x);
  float* dy = nullptr;
  uint32_t* dsource = nullptr;
  const uint32_t signs = 4096;
  if (!w.row_start || !w.source || !w.theta || !b.value || !dx || !ok(cudaMalloc(&dy, n_out * stride * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&dsource, signs * sizeof(uint32_t)), "cudaMalloc"))
    return 1;
  forward<<<n_out, stride>>>(w, b, dx, dy, stride);
  born_sources<<<signs / 256, 256>>>(w, seed, signs, dsource);
  std::vector<float> y(size_t(n_out) * stride);
  std::vector<uint32_t> born(signs);
  if (!ok(cudaGetLastError(), "kernel launch") ||
      !ok(cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost), "copy") ||
      !ok(cudaMemcpy(born.data(), dsource, signs * sizeof(uint32_t), cudaMemcpyDeviceToHost), "copy"))
    return 1;
  for (const void* p : {(const void*)w.row_start, (const void*)w.source, (const void*)w.theta, (const void*)b.value,
                        (const void*)dx, (const void*)dy, (const void*)dsource})
    cudaFree(const_cast<void*>(p));
  uint32_t differing = 0;
  for (uint32_t out = 0; out < n_out; ++out)
    for (uint32_t s = 0; s < stride; ++s)
      differing += std::fabs(y[out * stride + s] - forward_value(host_w, host_bias, x.data(), stride, out, s)) > 1e-6f;
  for (uint32_t n = 0; n < signs; ++n) differing += born[n] != born_source(host_w, seed, uint64_t(n) * 7919);
  std::printf("device_abi_check: %u of %u GPU outputs and born slots differ from the host's\n", differing,
              n_out * stride + signs);
  return differing == 0 ? 0 : 1;
}
