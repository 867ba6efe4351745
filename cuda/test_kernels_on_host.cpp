// The CUDA device's kernels compiled as plain C++ (host_stand_ins.hpp) and run on the host against
// the CPU device, on 300 random small layers and 200 convolution and pooling geometries: every
// kernel must give the CPU device's bits. It checks what a machine without a GPU can: the index
// arithmetic, the float order and the warp shuffles of the kernel code itself (not the launches
// or the memory transfers, which test_cuda_device checks on a GPU).
// scripts/cuda-compile-check.sh runs it. One line per kernel; non-zero exit on a difference.
#include "host_stand_ins.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "device/device_abi.h"
#include "kernels/backward.cuh"
#include "kernels/columns.cuh"
#include "kernels/conv.cuh"
#include "kernels/forward.cuh"
#include "kernels/gather.cuh"
#include "kernels/loss.cuh"
#include "kernels/pool.cuh"
#include "kernels/rewire.cuh"
#include "kernels/update.cuh"

using namespace deepr_cuda;

namespace {

// Trials in which a kernel differed from the CPU device, and the first of them.
struct Tally {
  const char* name;
  uint32_t trials = 0, differing = 0, first = 0;

  void add(uint32_t trial, bool same) {
    ++trials;
    if (!same && differing++ == 0) first = trial;
  }
  bool report() const {
    std::printf("%-4s  %-44s %u of %u cases differ%s\n", differing ? "FAIL" : "pass", name, differing, trials,
                differing ? (" (first: trial " + std::to_string(first) + ")").c_str() : "");
    return differing == 0;
  }
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b, size_t count) {
  return a.size() >= count && b.size() >= count && std::memcmp(a.data(), b.data(), count * sizeof(T)) == 0;
}

// A store's buffers on the host, `capacity` slots each, and its view.
struct Store {
  std::vector<uint32_t> row_start, source;
  std::vector<float> theta, velocity;
  deepr_sparse_view view(uint32_t n_in, uint32_t n_out, uint32_t slots, bool momentum) {
    deepr_sparse_view w{n_in, n_out, 3, slots, row_start.data(), source.data(), theta.data(), 0, {}};
    if (momentum) w.state[w.states++] = velocity.data();
    return w;
  }
};

// Convolution and pooling on random geometries and the shapes that stress the index arithmetic:
// 1 x 1 and 5 x 5 kernels, stride 2, padding, one channel, kernels with no active entry, pooling
// windows that overlap or leave columns out, tied maxima and NaN. Reports its tallies; true when
// every kernel gave the CPU device's bits.
bool conv_and_pool_cases(const deepr_device& cpu, deepr_device_context* context) {
  Tally forward{"conv_forward_kernel (+ relu, bias) = CPU"}, theta_gradient{"conv_theta_gradient_kernel = CPU"},
      input_gradient{"conv_input_gradient_kernel (channel order) = CPU"}, bias_gradient{"bias_backward_kernel (conv bias) = CPU"},
      pool_forward{"pool_forward_kernel = CPU"}, pool_backward{"pool_backward_kernel (ties, NaN) = CPU"};
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (uint32_t trial = 0; trial < 200; ++trial) {
    deepr_conv_geometry g{};
    g.in_channels = trial % 4 == 0 ? 1 : 1 + uint32_t(rng() % 3);
    g.out_channels = 1 + uint32_t(rng() % 4);
    g.height = 1 + uint32_t(rng() % 9);
    g.width = 1 + uint32_t(rng() % 9);
    g.padding = uint32_t(rng() % 3);
    const uint32_t kernel = trial % 5 == 0 ? 1 : trial % 5 == 1 ? 5 : 1 + uint32_t(rng() % 4);
    g.kernel_height = std::min(kernel, g.height + 2 * g.padding);
    g.kernel_width = std::min(trial % 7 == 0 ? 1 + uint32_t(rng() % 5) : kernel, g.width + 2 * g.padding);
    g.stride = trial % 3 == 0 ? 2 : 1 + uint32_t(rng() % 3);
    const uint32_t oh = (g.height + 2 * g.padding - g.kernel_height) / g.stride + 1;
    const uint32_t ow = (g.width + 2 * g.padding - g.kernel_width) / g.stride + 1;
    const uint32_t batch = 1 + uint32_t(rng() % 20), stride = (batch + 15) / 16 * 16;
    const uint32_t n_in = g.in_channels * g.kernel_height * g.kernel_width, n_out = g.out_channels;
    const uint64_t inputs = uint64_t(g.in_channels) * g.height * g.width, outputs = uint64_t(n_out) * oh * ow;

    // Every 6th trial a kernel with no active entry at all.
    const float density = trial % 6 == 5 ? 0.0f : unit(rng);
    Store store{{0}, {}, {}, {}};
    for (uint32_t out = 0; out < n_out; ++out) {
      for (uint32_t in = 0; in < n_in; ++in)
        if (unit(rng) < density) {
          store.source.push_back(in | (rng() & 1 ? DEEPR_SIGN_BIT : 0u));
          store.theta.push_back(0.5f * unit(rng) + 1e-3f);
        }
      store.row_start.push_back(uint32_t(store.source.size()));
    }
    const uint32_t slots = uint32_t(store.source.size());
    store.source.push_back(0);  // no buffer is empty
    store.theta.push_back(0.0f);
    const deepr_sparse_view w = store.view(n_in, n_out, slots, false);

    std::vector<float> x(inputs * stride, 0.0f), bias(n_out);
    for (uint64_t i = 0; i < inputs; ++i)
      for (uint32_t b = 0; b < batch; ++b) x[i * stride + b] = 2.0f * unit(rng) - 1.0f;
    for (float& v : bias) v = unit(rng) - 0.5f;
    bias[0] = -0.0f;  // the CPU starts its sums at 0 + bias
    const deepr_dense_view with_bias{n_out, bias.data(), 0, {}};
    for (uint32_t relu = 0; relu < 2; ++relu) {
      std::vector<float> yk(outputs * stride, 9.0f), yr(yk.size());
      conv_forward_kernel(g, w, relu ? bias.data() : nullptr, x.data(), yk.data(), stride, relu);
      const deepr_status status = cpu.sparse_conv2d_forward(context, &g, &w, relu ? &with_bias : nullptr, x.data(),
                                                            yr.data(), stride, relu);
      forward.add(trial, status == DEEPR_OK && same_bits(yk, yr, yk.size()));
    }

    std::vector<float> dy(outputs * stride, 0.0f);
    for (uint64_t o = 0; o < outputs; ++o)
      for (uint32_t b = 0; b < batch; ++b) dy[o * stride + b] = 2.0f * unit(rng) - 1.0f;
    std::vector<float> dxk(inputs * stride, 7.0f), dxr(dxk.size(), 7.0f), gk(slots + 1), gr(slots + 1);
    // dE/dx as the library launches it: the channel keys, the merge passes, the rows, the starts.
    std::vector<uint64_t> keys(slots + 1), merged(slots + 1);
    std::vector<uint32_t> slot_row(slots + 1), channel_start(g.in_channels + 1);
    conv_channel_keys_kernel(g, w, keys.data());
    for (uint64_t width = 1; width < slots; width *= 2) {
      merge_pass_kernel(keys.data(), merged.data(), slots, width);
      keys.swap(merged);
    }
    column_row_kernel(w, keys.data(), slot_row.data());
    column_start_kernel(keys.data(), slots, g.in_channels, channel_start.data());
    conv_input_gradient_kernel(g, w, keys.data(), channel_start.data(), slot_row.data(), dy.data(), dxk.data(), stride);
    const deepr_status backward = cpu.sparse_conv2d_backward(context, &g, &w, x.data(), dy.data(), dxr.data(), stride, gr.data());
    input_gradient.add(trial, backward == DEEPR_OK && same_bits(dxk, dxr, dxk.size()));
    if (trial % 4 == 0) {  // the half-warp kernels, on 32 host threads in step: slow on a few cores
      run_warp([&] { conv_theta_gradient_kernel(g, w, x.data(), dy.data(), stride, gk.data()); });
      theta_gradient.add(trial, same_bits(gk, gr, slots));
      std::vector<float> bk(n_out), br(n_out);
      run_warp([&] { bias_backward_kernel(dy.data(), n_out, oh * ow * stride, bk.data()); });
      cpu.conv2d_bias_backward(context, &g, dy.data(), stride, br.data());
      bias_gradient.add(trial, same_bits(bk, br, n_out));
    }

    // Pooling over the same image, without padding: values from five levels so that maxima tie,
    // and now and then a NaN.
    deepr_conv_geometry p = g;
    p.out_channels = p.in_channels;
    p.padding = 0;
    p.kernel_height = 1 + uint32_t(rng() % std::min(3u, g.height));
    p.kernel_width = 1 + uint32_t(rng() % std::min(3u, g.width));
    p.stride = 1 + uint32_t(rng() % 3);
    const uint32_t ph = (p.height - p.kernel_height) / p.stride + 1, pw = (p.width - p.kernel_width) / p.stride + 1;
    const uint64_t pooled = uint64_t(p.in_channels) * ph * pw;
    std::vector<float> levels(inputs * stride);
    for (float& v : levels) v = float(int32_t(rng() % 5) - 2);
    if (trial % 8 == 0) levels[rng() % levels.size()] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> pk(pooled * stride, 9.0f), pr(pk.size());
    pool_forward_kernel(p, levels.data(), pk.data(), stride);
    const deepr_status pooled_status = cpu.max_pool2d_forward(context, &p, levels.data(), pr.data(), stride);
    pool_forward.add(trial, pooled_status == DEEPR_OK && same_bits(pk, pr, pk.size()));
    std::vector<float> pdy(pooled * stride);
    for (float& v : pdy) v = 2.0f * unit(rng) - 1.0f;
    std::vector<float> pdxk(inputs * stride, 7.0f), pdxr(pdxk.size(), 7.0f);
    pool_backward_kernel(p, levels.data(), pr.data(), pdy.data(), pdxk.data(), stride);
    const deepr_status unpooled = cpu.max_pool2d_backward(context, &p, levels.data(), pr.data(), pdy.data(), pdxr.data(), stride);
    pool_backward.add(trial, unpooled == DEEPR_OK && same_bits(pdxk, pdxr, pdxk.size()));
  }
  bool pass = true;
  for (const Tally* t : {&forward, &theta_gradient, &input_gradient, &bias_gradient, &pool_forward, &pool_backward})
    pass &= t->report();
  return pass;
}

// The update kernels under every optimiser and prior (version 3 of the interface: Adam, the
// baselines' priors), on `trials` random stores: theta, the state arrays and the dying list against
// the CPU device's sparse_update; a bias under every optimiser against its dense_update.
void check_update_rules(const deepr_device& cpu, deepr_device_context* context, std::mt19937_64& rng, uint32_t trials,
                        Tally& sparse, Tally& dense, Tally& signed_dying) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (uint32_t trial = 0; trial < trials; ++trial) {
    const uint32_t optimiser = trial % 3, prior = trial / 3 % 4, states = state_arrays(optimiser);
    const uint32_t n_in = 1 + uint32_t(rng() % 40), n_out = 1 + uint32_t(rng() % 30);
    const float density = unit(rng);
    std::vector<uint32_t> row_start{0}, source;
    for (uint32_t out = 0; out < n_out; ++out) {
      for (uint32_t in = 0; in < n_in; ++in)
        if (unit(rng) < density || (source.empty() && out + 1 == n_out && in + 1 == n_in))  // at least one slot
          source.push_back(in | (rng() & 1 ? DEEPR_SIGN_BIT : 0u));
      row_start.push_back(uint32_t(source.size()));
    }
    const uint32_t slots = uint32_t(source.size());
    // DEEP R's theta is >= 0; a baseline's is a signed weight, some exactly 0 (as l1-shrink leaves
    // them), some with a zero gradient. Adam's v is a sum of squares.
    std::vector<float> theta(slots), gradient(slots);
    std::vector<std::vector<float>> state(states, std::vector<float>(slots));
    for (uint32_t k = 0; k < slots; ++k) {
      theta[k] = prior == DEEPR_PRIOR_DEEP_R ? 0.5f * unit(rng) + 1e-3f : k % 11 == 0 ? 0.0f : unit(rng) - 0.5f;
      gradient[k] = k % 7 == 0 ? 0.0f : 2.0f * unit(rng) - 1.0f;
      for (uint32_t a = 0; a < states; ++a)
        state[a][k] = optimiser == DEEPR_OPTIMISER_ADAM && a == 1 ? 0.01f * unit(rng) : unit(rng) - 0.5f;
    }
    deepr_update u{optimiser, prior, 0.05f, 2.0f, 0.02f, 0.9f, 77, trial, 3, 0.5f, 0.9f, 0.999f, 1e-8f, 1.0f, 1.0f};
    const double t = double(trial % 9 + 1);  // the step count, as with_bias_corrections rounds it
    u.correction1 = float(1.0 - std::pow(double(u.beta1), t));
    u.correction2 = float(1.0 - std::pow(double(u.beta2), t));

    std::vector<float> theta_k = theta;
    std::vector<std::vector<float>> state_k = state;
    deepr_sparse_view wk{n_in, n_out, 3, slots, row_start.data(), source.data(), theta_k.data(), states, {}};
    deepr_sparse_view wr{n_in, n_out, 3, slots, row_start.data(), source.data(), theta.data(), states, {}};
    for (uint32_t a = 0; a < states; ++a) {
      wk.state[a] = state_k[a].data();
      wr.state[a] = state[a].data();
    }
    std::vector<uint32_t> dying_k(slots + 1), dying_r(slots + 1);
    uint32_t died_r = 0;
    DeviceFlags flags{};
    const deepr::RngStream noise{u.seed, u.step, u.store, deepr::Purpose::kNoise};
    with_update_kinds(u, [&](auto kinds) {
      using Kinds = decltype(kinds);
      sparse_update_kernel<Kinds::kOptimiser, Kinds::kPrior>(wk, gradient.data(), hyper_of(u), noise, dying_k.data(), &flags);
    });
    const deepr_status status = cpu.sparse_update(context, &wr, gradient.data(), &u, dying_r.data(), slots, &died_r);
    dying_k.resize(flags.dying_count);
    dying_r.resize(died_r);
    std::sort(dying_k.begin(), dying_k.end());
    bool same = status == DEEPR_OK && dying_k == dying_r && same_bits(theta_k, theta, slots) && !flags.non_finite;
    for (uint32_t a = 0; a < states; ++a) same &= same_bits(state_k[a], state[a], slots);
    sparse.add(trial, same);
    if (prior != DEEPR_PRIOR_DEEP_R)  // signed weights: none is listed, though (in a store of 16 or more) some are below zero
      signed_dying.add(trial, flags.dying_count == 0 && died_r == 0 &&
                                  (slots < 16 || std::any_of(theta.begin(), theta.end(), [](float v) { return v < 0.0f; })));

    std::vector<float> bias(n_out), bias_gradient(n_out);
    std::vector<std::vector<float>> bias_state(states, std::vector<float>(n_out));
    for (uint32_t n = 0; n < n_out; ++n) {
      bias[n] = unit(rng) - 0.5f;
      bias_gradient[n] = 2.0f * unit(rng) - 1.0f;
      for (uint32_t a = 0; a < states; ++a)
        bias_state[a][n] = optimiser == DEEPR_OPTIMISER_ADAM && a == 1 ? 0.01f * unit(rng) : unit(rng) - 0.5f;
    }
    std::vector<float> bias_k = bias;
    std::vector<std::vector<float>> bias_state_k = bias_state;
    deepr_dense_view dk{n_out, bias_k.data(), states, {}}, dr{n_out, bias.data(), states, {}};
    for (uint32_t a = 0; a < states; ++a) {
      dk.state[a] = bias_state_k[a].data();
      dr.state[a] = bias_state[a].data();
    }
    flags = {};
    with_update_kinds(u, [&](auto kinds) {
      dense_update_kernel<decltype(kinds)::kOptimiser>(dk, bias_gradient.data(), hyper_of(u), &flags);
    });
    bool same_dense = cpu.dense_update(context, &dr, bias_gradient.data(), &u) == DEEPR_OK && same_bits(bias_k, bias, n_out);
    for (uint32_t a = 0; a < states; ++a) same_dense &= same_bits(bias_state_k[a], bias_state[a], n_out);
    dense.add(trial, same_dense);
  }
}

}  // namespace

int main() {
  const deepr_device& cpu = *deepr_cpu_device_table(DEEPR_DEVICE_ABI_VERSION);
  deepr_device_context* context = nullptr;
  if (cpu.open(0, &context) != DEEPR_OK) return 1;
  Tally gather{"gather_feature_major_kernel = CPU"}, forward{"sparse_forward_kernel (+ relu, bias) = CPU"},
      loss{"softmax_cross_entropy_kernel = CPU"}, theta_gradient{"theta_gradient_kernel = CPU"},
      input_gradient{"input_gradient_kernel (column order) = CPU"}, bias_gradient{"bias_backward_kernel = CPU"},
      relu{"relu_backward_kernel = CPU"}, update{"sparse_update_kernel = CPU"},
      dense{"dense_update_kernel = CPU"}, rewire{"rewire kernels = CPU (re-born slots too)"},
      refusal{"rewire_born_kernel flags an active born"};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (uint32_t trial = 0; trial < 300; ++trial) {
    const uint32_t n_in = 1 + uint32_t(rng() % 40), n_out = 1 + uint32_t(rng() % 30), batch = 1 + uint32_t(rng() % 40);
    const uint32_t stride = (batch + 15) / 16 * 16, capacity = n_in * n_out;
    const bool momentum = rng() & 1;
    const float density = unit(rng);
    Store host{{0}, {}, {}, {}};
    for (uint32_t out = 0; out < n_out; ++out) {
      for (uint32_t in = 0; in < n_in; ++in)
        if (unit(rng) < density) {
          host.source.push_back(in | (rng() & 1 ? DEEPR_SIGN_BIT : 0u));
          host.theta.push_back(0.5f * unit(rng) + 1e-3f);
          host.velocity.push_back(unit(rng) - 0.5f);
        }
      host.row_start.push_back(uint32_t(host.source.size()));
    }
    const uint32_t slots = uint32_t(host.source.size());
    host.source.resize(capacity);
    host.theta.resize(capacity);
    host.velocity.resize(capacity);
    Store kernel = host, reference = host;  // run by the kernels, and by the CPU device
    deepr_sparse_view wk = kernel.view(n_in, n_out, slots, momentum), wr = reference.view(n_in, n_out, slots, momentum);

    const uint32_t samples = batch + 3;
    std::vector<float> data(size_t(samples) * n_in);
    for (float& v : data) v = 2.0f * unit(rng) - 1.0f;
    std::vector<uint32_t> rows(batch);
    for (uint32_t& r : rows) r = uint32_t(rng() % samples);
    std::vector<float> xk(size_t(n_in) * stride, 9.0f), xr(xk.size());
    gather_feature_major_kernel(data.data(), n_in, rows.data(), 0, batch, stride, xk.data());
    cpu.gather_feature_major(context, data.data(), n_in, rows.data(), 0, batch, stride, xr.data());
    gather.add(trial, same_bits(xk, xr, xk.size()));

    std::vector<float> bias(n_out), bias_velocity(n_out);
    for (float& b : bias) b = unit(rng) - 0.5f;
    for (float& v : bias_velocity) v = unit(rng) - 0.5f;
    const deepr_dense_view no_bias{0, nullptr, 0, {}}, with_bias{n_out, bias.data(), 0, {}};
    for (uint32_t relu = 0; relu < 2; ++relu) {  // relu with a bias, then none without
      std::vector<float> yk(size_t(n_out) * stride), yr(yk.size());
      sparse_forward_kernel(wk, relu ? bias.data() : nullptr, xk.data(), yk.data(), stride, relu);
      cpu.sparse_forward(context, &wr, relu ? &with_bias : &no_bias, xr.data(), yr.data(), stride, relu);
      forward.add(trial, same_bits(yk, yr, yk.size()));

      std::vector<int32_t> labels(batch);
      for (int32_t& l : labels) l = int32_t(rng() % n_out);
      std::vector<float> gk(yk.size(), 5.0f), gr(yk.size());
      std::vector<SampleLoss> per_sample(batch);
      for (threadIdx.x = 0; threadIdx.x < stride; ++threadIdx.x)  // a thread per sample
        softmax_cross_entropy_kernel(yk.data(), labels.data(), n_out, batch, stride, gk.data(), per_sample.data());
      threadIdx.x = 0;
      double loss_k = 0, loss_r = 0;
      uint32_t correct_k = 0, correct_r = 0;
      for (const SampleLoss& s : per_sample) {  // the sum the library's host side makes
        loss_k += std::log(double(s.sum)) - double(s.label_logit);
        correct_k += uint32_t(s.verdict);
      }
      cpu.softmax_cross_entropy(context, yr.data(), labels.data(), n_out, batch, stride, gr.data(), &loss_r, &correct_r);
      loss.add(trial, same_bits(gk, gr, gk.size()) && loss_k == loss_r && correct_k == correct_r);
    }

    // The backward kernels from a random dz (zero in the padding); dE/dx as the library launches
    // it: the keys, the merge passes, the columns, the sums.
    std::vector<float> dz(size_t(n_out) * stride, 0.0f);
    for (uint32_t out = 0; out < n_out; ++out)
      for (uint32_t b = 0; b < batch; ++b) dz[size_t(out) * stride + b] = 2.0f * unit(rng) - 1.0f;
    std::vector<float> gk(slots + 1), gr(slots + 1), dxk(size_t(n_in) * stride, 7.0f), dxr(dxk.size());
    std::vector<uint64_t> keys(slots + 1), merged(slots + 1);
    std::vector<uint32_t> column_row(slots + 1), column_start(n_in + 1);
    column_keys_kernel(wk, keys.data());
    for (uint64_t width = 1; width < slots; width *= 2) {
      merge_pass_kernel(keys.data(), merged.data(), slots, width);
      keys.swap(merged);
    }
    column_row_kernel(wk, keys.data(), column_row.data());
    column_start_kernel(keys.data(), slots, n_in, column_start.data());
    input_gradient_kernel(wk, keys.data(), column_start.data(), column_row.data(), dz.data(), dxk.data(), stride);
    cpu.sparse_backward(context, &wr, xr.data(), dz.data(), dxr.data(), stride, gr.data());
    input_gradient.add(trial, same_bits(dxk, dxr, dxk.size()));
    std::vector<float> y(dz.size()), relu_k(dz.size()), relu_r(dz.size());
    for (float& v : y) v = float(int32_t(rng() % 5) - 2);  // negative, zero and positive outputs
    relu_backward_kernel(y.data(), dz.data(), relu_k.data(), dz.size());
    cpu.relu_backward(context, y.data(), dz.data(), relu_r.data(), dz.size());
    relu.add(trial, same_bits(relu_k, relu_r, dz.size()));
    if (trial % 10 == 0) {  // the half-warp kernels, on 32 host threads in step: slow on a few cores
      run_warp([&] { theta_gradient_kernel(wk, xk.data(), dz.data(), stride, gk.data()); });
      theta_gradient.add(trial, same_bits(gk, gr, slots));
      std::vector<float> bk(n_out), br(n_out);
      run_warp([&] { bias_backward_kernel(dz.data(), n_out, stride, bk.data()); });
      cpu.bias_backward(context, dz.data(), n_out, stride, br.data());
      bias_gradient.add(trial, same_bits(bk, br, n_out));
    }

    std::vector<float> gradient(slots + 1);
    for (float& g : gradient) g = 2.0f * unit(rng) - 1.0f;
    const deepr_update u{momentum ? DEEPR_OPTIMISER_MOMENTUM : DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, 0.05f, 3.0f, 0.02f,
                         0.9f, 77, trial, 3, 0, 0, 0, 0, 0, 0};  // version 3's fields: unread here
    const Hyper h = hyper_of(u);
    const deepr::RngStream noise{u.seed, u.step, u.store, deepr::Purpose::kNoise};
    std::vector<uint32_t> dying_k(slots + 1), dying_r(slots + 1);
    uint32_t died_r = 0;
    DeviceFlags flags{};
    if (momentum)
      sparse_update_kernel<DEEPR_OPTIMISER_MOMENTUM, DEEPR_PRIOR_DEEP_R>(wk, gradient.data(), h, noise, dying_k.data(), &flags);
    else sparse_update_kernel<DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R>(wk, gradient.data(), h, noise, dying_k.data(), &flags);
    cpu.sparse_update(context, &wr, gradient.data(), &u, dying_r.data(), slots, &died_r);
    dying_k.resize(flags.dying_count);
    dying_r.resize(died_r);
    std::sort(dying_k.begin(), dying_k.end());
    update.add(trial, dying_k == dying_r && same_bits(kernel.theta, reference.theta, slots) &&
                          same_bits(kernel.velocity, reference.velocity, slots) && !flags.non_finite);

    std::vector<float> bias_k = bias, velocity_k = bias_velocity;
    deepr_dense_view dk{n_out, bias_k.data(), 0, {}}, dr{n_out, bias.data(), 0, {}};
    if (momentum) {
      dk.state[dk.states++] = velocity_k.data();
      dr.state[dr.states++] = bias_velocity.data();
    }
    std::vector<float> bias_gradient(n_out);
    for (float& g : bias_gradient) g = 2.0f * unit(rng) - 1.0f;
    flags = {};
    if (momentum) dense_update_kernel<DEEPR_OPTIMISER_MOMENTUM>(dk, bias_gradient.data(), h, &flags);
    else dense_update_kernel<DEEPR_OPTIMISER_SGD>(dk, bias_gradient.data(), h, &flags);
    cpu.dense_update(context, &dr, bias_gradient.data(), &u);
    dense.add(trial, same_bits(bias_k, bias, n_out) && same_bits(velocity_k, bias_velocity, n_out));

    // Born: every other dying slot's own position (re-born at once) and up to 20 dormant ones.
    std::set<uint64_t> active, born_set;
    for (uint32_t out = 0; out < n_out; ++out)
      for (uint32_t k = host.row_start[out]; k < host.row_start[out + 1]; ++k)
        active.insert(uint64_t(out) * n_in + (host.source[k] & kIndexMask));
    const auto position_of = [&](uint32_t k) {
      const uint32_t out = uint32_t(std::upper_bound(host.row_start.begin(), host.row_start.end(), k) - host.row_start.begin() - 1);
      return uint64_t(out) * n_in + (host.source[k] & kIndexMask);
    };
    for (size_t n = 0; n < dying_r.size(); n += 2) born_set.insert(position_of(dying_r[n]));
    for (uint32_t extra = uint32_t(rng() % 20), tries = 0; extra && tries < 1000; ++tries) {
      const uint64_t p = rng() % (uint64_t(n_in) * n_out);
      if (!active.count(p) && born_set.insert(p).second) --extra;
    }
    const std::vector<uint64_t> born(born_set.begin(), born_set.end());
    const uint32_t dying_count = uint32_t(dying_r.size()), born_count = uint32_t(born.size());
    const uint32_t after = slots - dying_count + born_count;
    std::vector<uint32_t> to_source(after + 1);
    std::vector<float> to_theta(after + 1), to_state(after + 1);
    const SlotArrays to{to_source.data(), to_theta.data(), {to_state.data(), nullptr}};
    flags = {};
    check_row_start_kernel(wk, &flags);
    rewire_survivors_kernel(wk, dying_r.data(), dying_count, born.data(), born_count, to);
    rewire_born_kernel(wk, 123, dying_r.data(), dying_count, born.data(), born_count, to, &flags);
    rewire_row_start_kernel(kernel.row_start.data(), n_in, n_out, dying_r.data(), dying_count, born.data(), born_count);
    std::copy(to_source.begin(), to_source.begin() + after, kernel.source.begin());  // the library's copy back
    std::copy(to_theta.begin(), to_theta.begin() + after, kernel.theta.begin());
    if (momentum) std::copy(to_state.begin(), to_state.begin() + after, kernel.velocity.begin());
    const deepr_status status =
        cpu.rewire(context, &wr, capacity, 123, dying_r.data(), dying_count, born.data(), born_count);
    rewire.add(trial, status == DEEPR_OK && !flags.born_active && !flags.bad_row_start && wr.slots == after &&
                          kernel.row_start == reference.row_start && same_bits(kernel.source, reference.source, after) &&
                          same_bits(kernel.theta, reference.theta, after) &&
                          (!momentum || same_bits(kernel.velocity, reference.velocity, after)));

    // A plan that regrows an active slot that is not dying is flagged.
    if (slots > 0) {
      const uint32_t k = uint32_t(rng() % slots);
      const uint64_t taken = position_of(k);
      const bool k_dies = std::binary_search(dying_r.begin(), dying_r.end(), k);
      flags = {};
      rewire_born_kernel(host.view(n_in, n_out, slots, momentum), 123, dying_r.data(), dying_count, &taken, 1, to, &flags);
      refusal.add(trial, flags.born_active == (k_dies ? 0u : 1u));
    }
  }
  bool pass = conv_and_pool_cases(cpu, context);
  Tally rule_update{"sparse_update_kernel, every rule = CPU"},
      rule_dense{"dense_update_kernel, each optimiser = CPU"}, signed_dying{"signed priors: theta < 0, none dying"};
  check_update_rules(cpu, context, rng, 240, rule_update, rule_dense, signed_dying);
  cpu.close(context);
  for (const Tally* t : {&gather, &forward, &loss, &theta_gradient, &input_gradient, &bias_gradient, &relu, &update, &dense,
                         &rewire, &refusal, &rule_update, &rule_dense, &signed_dying}) pass &= t->report();
  return pass ? 0 : 1;
}
