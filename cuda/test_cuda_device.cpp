// The CUDA device library against the CPU device, on a machine with a GPU and no Node:
//
//   test_cuda_device path/to/libdeepr_cuda.so [ordinal]
//
// It dlopens the library and runs every table call on both devices with the same inputs: random
// sparse layers of many shapes (empty rows, one slot per row, full rows, rectangular, 100 000
// wide, batches 1 to 128). Every kernel does the CPU's float operations in the CPU's order, so
// every result must match bit for bit. Then the MLP trains through both tables for thousands of
// steps: the GPU's structure is checked against the strict bound after every step, and its
// parameters against the CPU's; the production DeviceTrainer trains Adam and the baselines' priors
// as train_batches does on the host. Then convolution and pooling: each call on geometries of many
// shapes, and a small cnn trained by the production DeviceTrainer on the GPU against train_batches
// on the host. Last the error paths and close's freeing of memory. One line per check, pass or FAIL
// with the largest difference; the exit
// status is non-zero when any check failed.
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "conv_specs.hpp"
#include "device/device_abi.h"
#include "device/device_trainer.hpp"
#include "device_mlp.hpp"
#include "training.hpp"

namespace {

int failed_checks = 0;

// One line of the report.
void report(bool pass, const std::string& name, const std::string& detail) {
  std::printf("%-4s  %-58s %s\n", pass ? "pass" : "FAIL", name.c_str(), detail.c_str());
  std::fflush(stdout);
  if (!pass) ++failed_checks;
}

std::string format(const char* f, double a, double b = 0, double c = 0) {
  char text[200];
  std::snprintf(text, sizeof text, f, a, b, c);
  return text;
}

// How two float arrays differ: values whose bits differ and the largest absolute difference.
struct Difference {
  size_t differing = 0, count = 0;
  double largest = 0;
  std::string text() const { return format("%.0f of %.0f values differ, largest difference %.3g", double(differing), double(count), largest); }
};

Difference compare(const std::vector<float>& gpu, const std::vector<float>& cpu) {
  Difference d;
  d.count = cpu.size();
  if (gpu.size() != cpu.size()) {
    d.differing = d.count;
    d.largest = INFINITY;
    return d;
  }
  for (size_t n = 0; n < cpu.size(); ++n) {
    if (std::memcmp(&gpu[n], &cpu[n], sizeof(float)) == 0) continue;
    ++d.differing;
    d.largest = std::max(d.largest, std::fabs(double(gpu[n]) - double(cpu[n])));
  }
  return d;
}

template <class T>
size_t count_differing(const std::vector<T>& gpu, const std::vector<T>& cpu) {
  if (gpu.size() != cpu.size()) return std::max(gpu.size(), cpu.size());
  size_t n = 0;
  for (size_t i = 0; i < cpu.size(); ++i) n += gpu[i] != cpu[i];
  return n;
}

// A failed call that a check did not expect: it ends the program with the device's message.
void must(const deepr_device& dev, deepr_device_context* c, deepr_status status, const char* what) {
  if (status == DEEPR_OK) return;
  std::printf("FAIL  %s on the %s device: status %d, %s\n", what, dev.name, status, dev.last_error(c));
  std::exit(1);
}

// The two devices under test, one context each, and buffers that exist on both.
struct Pair {
  const deepr_device& gpu;
  const deepr_device& cpu;
  deepr_device_context* g = nullptr;
  deepr_device_context* c = nullptr;

  // A buffer of `count` T on both devices, both holding `host` when given.
  template <class T>
  struct Buffer {
    T* gpu = nullptr;
    T* cpu = nullptr;
    size_t count = 0;
  };

  template <class T>
  Buffer<T> alloc(size_t count) {
    Buffer<T> b;
    b.count = count;
    void *pg = nullptr, *pc = nullptr;
    must(gpu, g, gpu.alloc(g, std::max<size_t>(count, 1) * sizeof(T), &pg), "alloc");
    must(cpu, c, cpu.alloc(c, std::max<size_t>(count, 1) * sizeof(T), &pc), "alloc");
    b.gpu = static_cast<T*>(pg);
    b.cpu = static_cast<T*>(pc);
    return b;
  }
  template <class T>
  Buffer<T> upload(const std::vector<T>& host) {
    Buffer<T> b = alloc<T>(host.size());
    write(b, host);
    return b;
  }
  template <class T>
  void write(const Buffer<T>& b, const std::vector<T>& host) {
    if (host.empty()) return;
    must(gpu, g, gpu.write(g, b.gpu, host.data(), host.size() * sizeof(T)), "write");
    must(cpu, c, cpu.write(c, b.cpu, host.data(), host.size() * sizeof(T)), "write");
  }
  template <class T>
  std::vector<T> from_gpu(const T* p, size_t count) {
    std::vector<T> host(count);
    if (count) must(gpu, g, gpu.read(g, host.data(), p, count * sizeof(T)), "read");
    return host;
  }
  template <class T>
  std::vector<T> from_cpu(const T* p, size_t count) {
    std::vector<T> host(count);
    if (count) must(cpu, c, cpu.read(c, host.data(), p, count * sizeof(T)), "read");
    return host;
  }
  template <class T>
  void release(const Buffer<T>& b) {
    gpu.release(g, b.gpu);
    cpu.release(c, b.cpu);
  }
};

// A layer's shape and what the check runs on it.
struct Shape {
  const char* name;
  uint32_t n_in, n_out;
  uint32_t max_per_row;  // slots per row drawn from [1, max_per_row]; every row full when it is n_in
  double empty_rows;     // the fraction of rows left empty
  uint32_t batch;
  bool bias, momentum;
};

// A random sparse layer: sorted distinct inputs per row, random signs, theta in (0, 0.5].
struct HostLayer {
  uint32_t n_in, n_out;
  std::vector<uint32_t> row_start, source;
  std::vector<float> theta, velocity, bias, bias_velocity;
};

HostLayer random_layer(const Shape& s, std::mt19937_64& rng) {
  HostLayer l{s.n_in, s.n_out, {0}, {}, {}, {}, {}, {}};
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const uint32_t max_k = std::min(s.max_per_row, s.n_in);
  for (uint32_t out = 0; out < s.n_out; ++out) {
    const bool empty = unit(rng) < s.empty_rows;
    const uint32_t k = empty ? 0 : max_k == s.n_in ? s.n_in : 1 + uint32_t(rng() % max_k);
    std::set<uint32_t> inputs;
    if (k == s.n_in)
      for (uint32_t i = 0; i < s.n_in; ++i) inputs.insert(i);
    while (inputs.size() < k) inputs.insert(uint32_t(rng() % s.n_in));
    for (uint32_t in : inputs) {
      l.source.push_back(in | (rng() & 1 ? DEEPR_SIGN_BIT : 0u));
      l.theta.push_back(0.5f * (1.0f - unit(rng)));
      l.velocity.push_back(unit(rng) - 0.5f);
    }
    l.row_start.push_back(uint32_t(l.source.size()));
  }
  if (s.bias)
    for (uint32_t out = 0; out < s.n_out; ++out) {
      l.bias.push_back(unit(rng) - 0.5f);
      l.bias_velocity.push_back(unit(rng) - 0.5f);
    }
  return l;
}

// Feature-major values with zero padding samples: `rows` x stride, `batch` real samples.
std::vector<float> random_activations(uint32_t rows, uint32_t batch, uint32_t stride, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> v(size_t(rows) * stride, 0.0f);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t b = 0; b < batch; ++b) v[size_t(r) * stride + b] = value(rng);
  return v;
}

// Every kernel of the table on one random layer, both devices, the same inputs.
void check_shape(Pair& p, const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const HostLayer l = random_layer(s, rng);
  const uint32_t slots = uint32_t(l.source.size()), stride = (s.batch + 15) / 16 * 16;
  const std::string at = std::string(s.name) + ": ";
  const uint32_t capacity = slots + 64 + slots / 2;  // room for the rewire to grow the store

  // The layer's stores on both devices; the slot buffers hold `capacity` slots.
  auto row_start = p.upload(l.row_start);
  auto source = p.alloc<uint32_t>(capacity);
  auto theta = p.alloc<float>(capacity);
  auto velocity = p.alloc<float>(capacity);
  p.write(source, l.source);
  p.write(theta, l.theta);
  p.write(velocity, l.velocity);
  auto bias = p.upload(l.bias.empty() ? std::vector<float>{0.0f} : l.bias);
  auto bias_velocity = p.upload(l.bias_velocity.empty() ? std::vector<float>{0.0f} : l.bias_velocity);
  const auto views = [&](bool gpu) {
    deepr_sparse_view w{l.n_in, l.n_out, 7, slots, gpu ? row_start.gpu : row_start.cpu, gpu ? source.gpu : source.cpu,
                        gpu ? theta.gpu : theta.cpu, 0, {}};
    if (s.momentum) w.state[w.states++] = gpu ? velocity.gpu : velocity.cpu;
    deepr_dense_view b{s.bias ? l.n_out : 0u, gpu ? bias.gpu : bias.cpu, 0, {}};
    if (s.bias && s.momentum) b.state[b.states++] = gpu ? bias_velocity.gpu : bias_velocity.cpu;
    return std::make_pair(w, b);
  };
  auto [wg, bg] = views(true);
  auto [wc, bc] = views(false);

  // gather_feature_major from a row-major data set, by rows and by a first row.
  const uint32_t samples = s.batch + 9;
  std::vector<float> data(size_t(samples) * l.n_in);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (float& v : data) v = value(rng);
  std::vector<uint32_t> rows(s.batch);
  for (uint32_t& r : rows) r = uint32_t(rng() % samples);
  auto dataset = p.upload(data);
  auto row_list = p.upload(rows);
  auto x = p.alloc<float>(size_t(l.n_in) * stride);
  must(p.gpu, p.g, p.gpu.gather_feature_major(p.g, dataset.gpu, l.n_in, row_list.gpu, 0, s.batch, stride, x.gpu), "gather");
  must(p.cpu, p.c, p.cpu.gather_feature_major(p.c, dataset.cpu, l.n_in, row_list.cpu, 0, s.batch, stride, x.cpu), "gather");
  Difference d = compare(p.from_gpu(x.gpu, x.count), p.from_cpu(x.cpu, x.count));
  must(p.gpu, p.g, p.gpu.gather_feature_major(p.g, dataset.gpu, l.n_in, nullptr, 9, s.batch, stride, x.gpu), "gather");
  must(p.cpu, p.c, p.cpu.gather_feature_major(p.c, dataset.cpu, l.n_in, nullptr, 9, s.batch, stride, x.cpu), "gather");
  Difference d2 = compare(p.from_gpu(x.gpu, x.count), p.from_cpu(x.cpu, x.count));
  report(d.differing == 0 && d2.differing == 0, at + "gather_feature_major = CPU", (d.differing ? d : d2).text());

  // sparse_forward, with and without the ReLU.
  auto y = p.alloc<float>(size_t(l.n_out) * stride);
  for (uint32_t relu = 0; relu < 2; ++relu) {
    must(p.gpu, p.g, p.gpu.sparse_forward(p.g, &wg, &bg, x.gpu, y.gpu, stride, relu), "sparse_forward");
    must(p.cpu, p.c, p.cpu.sparse_forward(p.c, &wc, &bc, x.cpu, y.cpu, stride, relu), "sparse_forward");
    d = compare(p.from_gpu(y.gpu, y.count), p.from_cpu(y.cpu, y.count));
    report(d.differing == 0, at + (relu ? "sparse_forward + relu = CPU" : "sparse_forward = CPU"), d.text());
  }

  // softmax_cross_entropy on the outputs as logits (the relu ones: many ties at 0).
  std::vector<int32_t> labels(s.batch);
  for (int32_t& c : labels) c = int32_t(rng() % l.n_out);
  auto label_buffer = p.upload(labels);
  auto grad = p.alloc<float>(size_t(l.n_out) * stride);
  double loss_g = 0, loss_c = 0;
  uint32_t correct_g = 0, correct_c = 0;
  must(p.gpu, p.g, p.gpu.softmax_cross_entropy(p.g, y.gpu, label_buffer.gpu, l.n_out, s.batch, stride, grad.gpu, &loss_g, &correct_g), "loss");
  must(p.cpu, p.c, p.cpu.softmax_cross_entropy(p.c, y.cpu, label_buffer.cpu, l.n_out, s.batch, stride, grad.cpu, &loss_c, &correct_c), "loss");
  d = compare(p.from_gpu(grad.gpu, grad.count), p.from_cpu(grad.cpu, grad.count));
  report(d.differing == 0 && loss_g == loss_c && correct_g == correct_c, at + "softmax_cross_entropy = CPU",
         d.text() + format("; loss %.17g vs %.17g, correct %.0f", loss_g, loss_c, correct_g) +
             format(" vs %.0f", correct_c));

  // sparse_backward: dE/dtheta and dE/dx.
  const std::vector<float> dz_host = random_activations(l.n_out, s.batch, stride, rng);
  auto dz = p.upload(dz_host);
  auto dx = p.alloc<float>(size_t(l.n_in) * stride);
  auto theta_gradient = p.alloc<float>(capacity);
  must(p.gpu, p.g, p.gpu.sparse_backward(p.g, &wg, x.gpu, dz.gpu, dx.gpu, stride, theta_gradient.gpu), "sparse_backward");
  must(p.cpu, p.c, p.cpu.sparse_backward(p.c, &wc, x.cpu, dz.cpu, dx.cpu, stride, theta_gradient.cpu), "sparse_backward");
  const std::vector<float> g_cpu = p.from_cpu(theta_gradient.cpu, slots);
  d = compare(p.from_gpu(theta_gradient.gpu, slots), g_cpu);
  report(d.differing == 0, at + "sparse_backward dE/dtheta = CPU", d.text());
  d = compare(p.from_gpu(dx.gpu, dx.count), p.from_cpu(dx.cpu, dx.count));
  report(d.differing == 0, at + "sparse_backward dE/dx = CPU", d.text());
  // The first layer's form: no dx.
  must(p.gpu, p.g, p.gpu.sparse_backward(p.g, &wg, x.gpu, dz.gpu, nullptr, stride, theta_gradient.gpu), "sparse_backward");
  d = compare(p.from_gpu(theta_gradient.gpu, slots), g_cpu);
  report(d.differing == 0, at + "sparse_backward without dx = CPU", d.text());

  // relu_backward, out of place and in place, through the relu outputs.
  must(p.gpu, p.g, p.gpu.sparse_forward(p.g, &wg, &bg, x.gpu, y.gpu, stride, 1), "sparse_forward");
  must(p.cpu, p.c, p.cpu.sparse_forward(p.c, &wc, &bc, x.cpu, y.cpu, stride, 1), "sparse_forward");
  auto relu_dx = p.alloc<float>(dz.count);
  must(p.gpu, p.g, p.gpu.relu_backward(p.g, y.gpu, dz.gpu, relu_dx.gpu, dz.count), "relu_backward");
  must(p.cpu, p.c, p.cpu.relu_backward(p.c, y.cpu, dz.cpu, relu_dx.cpu, dz.count), "relu_backward");
  d = compare(p.from_gpu(relu_dx.gpu, dz.count), p.from_cpu(relu_dx.cpu, dz.count));
  must(p.gpu, p.g, p.gpu.relu_backward(p.g, y.gpu, dz.gpu, dz.gpu, dz.count), "relu_backward");
  must(p.cpu, p.c, p.cpu.relu_backward(p.c, y.cpu, dz.cpu, dz.cpu, dz.count), "relu_backward");
  d2 = compare(p.from_gpu(dz.gpu, dz.count), p.from_cpu(dz.cpu, dz.count));
  report(d.differing == 0 && d2.differing == 0, at + "relu_backward (also in place) = CPU", (d.differing ? d : d2).text());

  // bias_backward.
  auto bias_gradient = p.alloc<float>(l.n_out);
  must(p.gpu, p.g, p.gpu.bias_backward(p.g, dz.gpu, l.n_out, stride, bias_gradient.gpu), "bias_backward");
  must(p.cpu, p.c, p.cpu.bias_backward(p.c, dz.cpu, l.n_out, stride, bias_gradient.cpu), "bias_backward");
  d = compare(p.from_gpu(bias_gradient.gpu, l.n_out), p.from_cpu(bias_gradient.cpu, l.n_out));
  report(d.differing == 0, at + "bias_backward = CPU", d.text());

  // sparse_update from the same gradients (the CPU's), with noise: lr * alpha = 0.25 against theta
  // in (0, 0.5], so about half the slots die.
  p.write(theta_gradient, std::vector<float>(g_cpu));
  const deepr_update u{s.momentum ? DEEPR_OPTIMISER_MOMENTUM : DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, 0.05f, 5.0f, 0.02f,
                       0.9f, seed, 41, 7, 0, 0, 0, 0, 0, 0};  // version 3's fields: unread here
  std::vector<uint32_t> dying_g(slots + 1), dying_c(slots + 1);
  uint32_t died_g = 0, died_c = 0;
  must(p.gpu, p.g, p.gpu.sparse_update(p.g, &wg, theta_gradient.gpu, &u, dying_g.data(), slots, &died_g), "sparse_update");
  must(p.cpu, p.c, p.cpu.sparse_update(p.c, &wc, theta_gradient.cpu, &u, dying_c.data(), slots, &died_c), "sparse_update");
  dying_g.resize(died_g);
  dying_c.resize(died_c);
  const std::vector<float> theta_c = p.from_cpu(theta.cpu, slots);
  d = compare(p.from_gpu(theta.gpu, slots), theta_c);
  const Difference dv = compare(p.from_gpu(velocity.gpu, s.momentum ? slots : 0), p.from_cpu(velocity.cpu, s.momentum ? slots : 0));
  report(d.differing == 0 && dv.differing == 0, at + "sparse_update theta and state = CPU", d.text() + "; state " + dv.text());
  // The same slots die, except where theta is within rounding of 0.
  std::vector<uint32_t> unexplained;
  std::set_symmetric_difference(dying_g.begin(), dying_g.end(), dying_c.begin(), dying_c.end(), std::back_inserter(unexplained));
  unexplained.erase(std::remove_if(unexplained.begin(), unexplained.end(),
                                   [&](uint32_t k) { return std::fabs(theta_c[k]) <= 1e-6f; }),
                    unexplained.end());
  report(unexplained.empty() && (died_c > 0 || slots < 50), at + "sparse_update dying list = CPU",
         format("%.0f and %.0f slots died, %.0f differ beyond rounding", died_g, died_c, double(unexplained.size())));

  if (s.bias) {
    must(p.gpu, p.g, p.gpu.dense_update(p.g, &bg, bias_gradient.gpu, &u), "dense_update");
    must(p.cpu, p.c, p.cpu.dense_update(p.c, &bc, bias_gradient.cpu, &u), "dense_update");
    d = compare(p.from_gpu(bias.gpu, l.n_out), p.from_cpu(bias.cpu, l.n_out));
    const Difference ds = compare(p.from_gpu(bias_velocity.gpu, s.momentum ? l.n_out : 0),
                                  p.from_cpu(bias_velocity.cpu, s.momentum ? l.n_out : 0));
    report(d.differing == 0 && ds.differing == 0, at + "dense_update = CPU", d.text() + "; state " + ds.text());
  }

  // rewire with the CPU's plan on identical stores: the dying slots go, and dormant positions are
  // born, among them some of the dying slots' own positions (re-born at once).
  p.write(theta, theta_c);
  if (s.momentum) p.write(velocity, p.from_cpu(velocity.cpu, slots));
  std::set<uint64_t> active;
  for (uint32_t out = 0; out < l.n_out; ++out)
    for (uint32_t k = l.row_start[out]; k < l.row_start[out + 1]; ++k)
      active.insert(uint64_t(out) * l.n_in + (l.source[k] & ~DEEPR_SIGN_BIT));
  std::set<uint64_t> born_set;
  const uint64_t positions = uint64_t(l.n_in) * l.n_out;
  const uint32_t wanted = std::min<uint64_t>(died_c + 40, positions - active.size() + died_c);
  for (uint32_t n = 0; n < died_c; n += 3) {  // every third dying slot is re-born
    const uint32_t k = dying_c[n];
    const uint32_t out = uint32_t(std::upper_bound(l.row_start.begin(), l.row_start.end(), k) - l.row_start.begin() - 1);
    born_set.insert(uint64_t(out) * l.n_in + (l.source[k] & ~DEEPR_SIGN_BIT));
  }
  for (uint32_t tries = 0; born_set.size() < wanted && tries < 100000; ++tries) {
    const uint64_t position = rng() % positions;
    if (!active.count(position)) born_set.insert(position);
  }
  const std::vector<uint64_t> born(born_set.begin(), born_set.end());
  must(p.gpu, p.g, p.gpu.rewire(p.g, &wg, capacity, seed, dying_c.data(), died_c, born.data(), uint32_t(born.size())), "rewire");
  must(p.cpu, p.c, p.cpu.rewire(p.c, &wc, capacity, seed, dying_c.data(), died_c, born.data(), uint32_t(born.size())), "rewire");
  const size_t rows_changed = count_differing(p.from_gpu(row_start.gpu, l.n_out + 1), p.from_cpu(row_start.cpu, l.n_out + 1));
  const size_t sources_changed = count_differing(p.from_gpu(source.gpu, wc.slots), p.from_cpu(source.cpu, wc.slots));
  d = compare(p.from_gpu(theta.gpu, wc.slots), p.from_cpu(theta.cpu, wc.slots));
  const Difference ds = compare(p.from_gpu(velocity.gpu, s.momentum ? wc.slots : 0), p.from_cpu(velocity.cpu, s.momentum ? wc.slots : 0));
  report(wg.slots == wc.slots && rows_changed == 0 && sources_changed == 0 && d.differing == 0 && ds.differing == 0,
         at + "rewire = CPU (row_start, source, theta, state)",
         format("%.0f dying, %.0f born; %.0f slots", died_c, double(born.size()), wg.slots) +
             format(" vs %.0f; %.0f row offsets and %.0f sources differ", wc.slots, double(rows_changed), double(sources_changed)) +
             "; theta " + d.text());

  for (auto* b : {&dataset, &x, &y, &grad, &dz, &dx, &theta, &velocity, &bias, &bias_velocity, &relu_dx, &bias_gradient,
                  &theta_gradient})
    p.release(*b);
  p.release(row_start);
  p.release(source);
  p.release(row_list);
  p.release(label_buffer);
}

// The strict bound on a device's store: row_start runs from 0 to slots and never falls, each row's
// inputs ascend (no duplicate) and are inputs of the layer. "" when it holds.
std::string structure_problem(const std::vector<uint32_t>& row_start, const std::vector<uint32_t>& source, uint32_t n_in,
                              uint32_t slots) {
  if (row_start.front() != 0 || row_start.back() != slots) return "row_start does not run from 0 to slots";
  for (size_t j = 0; j + 1 < row_start.size(); ++j) {
    if (row_start[j] > row_start[j + 1]) return "row_start falls at row " + std::to_string(j);
    for (uint32_t k = row_start[j]; k < row_start[j + 1]; ++k) {
      const uint32_t in = source[k] & ~DEEPR_SIGN_BIT;
      if (in >= n_in) return "an input index out of range in row " + std::to_string(j);
      if (k > row_start[j] && (source[k - 1] & ~DEEPR_SIGN_BIT) >= in) return "inputs not ascending in row " + std::to_string(j);
    }
  }
  return "";
}

// The MLP trained through both tables from the same network; the GPU's stores are downloaded and
// checked after every step, and compared with the CPU's: they must stay identical.
void check_training(const deepr_device& gpu, int32_t ordinal, const deepr_device& cpu, bool momentum, bool global,
                    uint32_t batch, uint32_t steps) {
  using namespace deepr;
  const std::vector<uint32_t> sizes{64, 48, 32, 10};
  const std::vector<uint64_t> budgets{600, 300, 120};
  const uint32_t samples = 1000;
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<float> inputs(size_t(samples) * sizes.front());
  std::vector<int32_t> labels(samples);
  for (uint32_t s = 0; s < samples; ++s) {  // the label is the largest of the first ten features: learnable
    float* row = inputs.data() + size_t(s) * sizes.front();
    for (uint32_t i = 0; i < sizes.front(); ++i) row[i] = value(rng);
    labels[s] = int32_t(std::max_element(row, row + 10) - row);
  }
  const NetworkSpec spec = deepr_test::mlp_spec(sizes, budgets, true, momentum, global, GlobalShare::kByBudget, 5);
  Network net(spec);
  deepr_test::DeviceMlp on_gpu(gpu, ordinal, net, inputs, batch, momentum, global, GlobalShare::kByBudget);
  deepr_test::DeviceMlp on_cpu(cpu, 0, net, inputs, batch, momentum, global, GlobalShare::kByBudget);
  const StepHyper hyper{0.05f, 1e-4f, 1e-3f, momentum ? 0.9f : 0.0f};
  std::string problem;
  uint32_t same_until = steps;  // the first step after which the GPU's loss, structure or theta differ
  double first_loss = 0, last_loss = 0;
  uint64_t regrown = 0;
  for (uint32_t step = 0; step < steps && problem.empty(); ++step) {
    std::vector<uint32_t> rows(batch);
    for (uint32_t& r : rows) r = uint32_t(rng() % samples);
    double loss_g = 0, loss_c = 0;
    std::vector<uint64_t> rewired_g, rewired_c;
    on_gpu.step(rows, labels, hyper, loss_g, rewired_g);
    on_cpu.step(rows, labels, hyper, loss_c, rewired_c);
    for (uint64_t r : rewired_g) regrown += r;
    if (step < 100) first_loss += loss_g / batch / 100;
    if (step >= steps - 100) last_loss += loss_g / batch / 100;
    if (!std::isfinite(loss_g)) problem = "the loss is not finite at step " + std::to_string(step);
    if (same_until == steps && (loss_g != loss_c || rewired_g != rewired_c)) same_until = step;
    uint64_t total = 0;
    for (size_t l = 0; l < on_gpu.layers().size() && problem.empty(); ++l) {
      const deepr_test::DeviceLayer& d = on_gpu.layers()[l];
      const std::vector<uint32_t> row_start = on_gpu.download(d.weight.row_start, d.weight.n_out + 1);
      const std::vector<uint32_t> source = on_gpu.download(d.weight.source, d.weight.slots);
      problem = structure_problem(row_start, source, d.weight.n_in, d.weight.slots);
      if (problem.empty() && (row_start != d.row_start || source != d.source))
        problem = "the device's structure is not the host's copy";
      if (problem.empty() && !global && d.weight.slots != d.budget) problem = "slots != budget";
      if (!problem.empty()) problem = "layer " + std::to_string(l) + " after step " + std::to_string(step) + ": " + problem;
      total += d.weight.slots;
      if (same_until == steps) {
        const deepr_test::DeviceLayer& e = on_cpu.layers()[l];
        if (source != on_cpu.download(e.weight.source, e.weight.slots) ||
            compare(on_gpu.download(d.weight.theta, d.weight.slots), on_cpu.download(e.weight.theta, e.weight.slots)).differing)
          same_until = step;
      }
    }
    if (problem.empty() && global && total != budgets[0] + budgets[1] + budgets[2])
      problem = "the total slots are not the global budget after step " + std::to_string(step);
  }
  const std::string name = std::string("training ") + std::to_string(steps) + " steps, batch " + std::to_string(batch) +
                           (momentum ? ", momentum" : ", sgd") + (global ? ", global budget" : ", per-layer budget");
  report(problem.empty(), name + ": strict bound every step",
         problem.empty() ? format("%.0f connections regrown", double(regrown)) : problem);
  report(last_loss < 0.8 * first_loss && regrown > steps, name + ": it learns",
         format("mean loss %.4f over the first 100 steps, %.4f over the last 100", first_loss, last_loss));
  report(same_until == steps, name + ": = CPU device after every step",
         same_until == steps ? "loss, structure and theta identical" : "first differs after step " + std::to_string(same_until));
}

// Convolution and pooling: a geometry and what the check runs on it.
struct ConvShape {
  const char* name;
  deepr_conv_geometry geometry;
  double density;  // of the active kernel entries; 0 leaves the kernel empty
  uint32_t batch;
  bool bias;
  uint32_t pool_kernel, pool_stride;  // pooling over the convolution's input image
};

// The version-3 calls on one geometry, both devices, the same inputs.
void check_conv_shape(Pair& p, const ConvShape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const deepr_conv_geometry& g = s.geometry;
  const uint32_t stride = (s.batch + 15) / 16 * 16, n_in = g.in_channels * g.kernel_height * g.kernel_width;
  const uint32_t oh = (g.height + 2 * g.padding - g.kernel_height) / g.stride + 1;
  const uint32_t ow = (g.width + 2 * g.padding - g.kernel_width) / g.stride + 1;
  const uint32_t inputs = g.in_channels * g.height * g.width, outputs = g.out_channels * oh * ow;
  const std::string at = std::string(s.name) + ": ";
  std::vector<uint32_t> row_start{0}, source;
  std::vector<float> theta, bias(g.out_channels);
  for (uint32_t out = 0; out < g.out_channels; ++out) {
    for (uint32_t in = 0; in < n_in; ++in)
      if (unit(rng) < s.density) {
        source.push_back(in | (rng() & 1 ? DEEPR_SIGN_BIT : 0u));
        theta.push_back(0.5f * (1.0f - unit(rng)));
      }
    row_start.push_back(uint32_t(source.size()));
  }
  for (float& b : bias) b = unit(rng) - 0.5f;
  const uint32_t slots = uint32_t(source.size());
  auto rows = p.upload(row_start);
  auto sources = p.upload(source);
  auto thetas = p.upload(theta);
  auto biases = p.upload(bias);
  const deepr_sparse_view wg{n_in, g.out_channels, 7, slots, rows.gpu, sources.gpu, thetas.gpu, 0, {}};
  const deepr_sparse_view wc{n_in, g.out_channels, 7, slots, rows.cpu, sources.cpu, thetas.cpu, 0, {}};
  const deepr_dense_view bg{s.bias ? g.out_channels : 0u, biases.gpu, 0, {}}, bc{s.bias ? g.out_channels : 0u, biases.cpu, 0, {}};

  auto x = p.upload(random_activations(inputs, s.batch, stride, rng));
  auto y = p.alloc<float>(size_t(outputs) * stride);
  Difference d;
  for (uint32_t relu = 0; relu < 2; ++relu) {
    must(p.gpu, p.g, p.gpu.sparse_conv2d_forward(p.g, &g, &wg, &bg, x.gpu, y.gpu, stride, relu), "sparse_conv2d_forward");
    must(p.cpu, p.c, p.cpu.sparse_conv2d_forward(p.c, &g, &wc, &bc, x.cpu, y.cpu, stride, relu), "sparse_conv2d_forward");
    d = compare(p.from_gpu(y.gpu, y.count), p.from_cpu(y.cpu, y.count));
    report(d.differing == 0, at + (relu ? "sparse_conv2d_forward + relu = CPU" : "sparse_conv2d_forward = CPU"), d.text());
  }

  auto dy = p.upload(random_activations(outputs, s.batch, stride, rng));
  auto dx = p.alloc<float>(size_t(inputs) * stride);
  auto gradient = p.alloc<float>(slots);
  auto bias_gradient = p.alloc<float>(g.out_channels);
  must(p.gpu, p.g, p.gpu.sparse_conv2d_backward(p.g, &g, &wg, x.gpu, dy.gpu, dx.gpu, stride, gradient.gpu), "sparse_conv2d_backward");
  must(p.cpu, p.c, p.cpu.sparse_conv2d_backward(p.c, &g, &wc, x.cpu, dy.cpu, dx.cpu, stride, gradient.cpu), "sparse_conv2d_backward");
  d = compare(p.from_gpu(dx.gpu, dx.count), p.from_cpu(dx.cpu, dx.count));
  report(d.differing == 0, at + "sparse_conv2d_backward dE/dx = CPU", d.text());
  d = compare(p.from_gpu(gradient.gpu, slots), p.from_cpu(gradient.cpu, slots));
  report(d.differing == 0, at + "sparse_conv2d_backward dE/dtheta = CPU", d.text());
  must(p.gpu, p.g, p.gpu.conv2d_bias_backward(p.g, &g, dy.gpu, stride, bias_gradient.gpu), "conv2d_bias_backward");
  must(p.cpu, p.c, p.cpu.conv2d_bias_backward(p.c, &g, dy.cpu, stride, bias_gradient.cpu), "conv2d_bias_backward");
  d = compare(p.from_gpu(bias_gradient.gpu, g.out_channels), p.from_cpu(bias_gradient.cpu, g.out_channels));
  report(d.differing == 0, at + "conv2d_bias_backward = CPU", d.text());

  // Pooling over the input image, its values from five levels so that maxima tie.
  const deepr_conv_geometry pool{g.in_channels, g.height, g.width, g.in_channels, s.pool_kernel, s.pool_kernel, s.pool_stride, 0};
  const uint32_t pooled = g.in_channels * ((g.height - s.pool_kernel) / s.pool_stride + 1) *
                          ((g.width - s.pool_kernel) / s.pool_stride + 1);
  std::vector<float> levels(size_t(inputs) * stride);
  for (float& v : levels) v = float(int32_t(rng() % 5) - 2);
  auto px = p.upload(levels);
  auto py = p.alloc<float>(size_t(pooled) * stride);
  auto pdy = p.upload(random_activations(pooled, s.batch, stride, rng));
  must(p.gpu, p.g, p.gpu.max_pool2d_forward(p.g, &pool, px.gpu, py.gpu, stride), "max_pool2d_forward");
  must(p.cpu, p.c, p.cpu.max_pool2d_forward(p.c, &pool, px.cpu, py.cpu, stride), "max_pool2d_forward");
  d = compare(p.from_gpu(py.gpu, py.count), p.from_cpu(py.cpu, py.count));
  report(d.differing == 0, at + "max_pool2d_forward = CPU", d.text());
  must(p.gpu, p.g, p.gpu.max_pool2d_backward(p.g, &pool, px.gpu, py.gpu, pdy.gpu, dx.gpu, stride), "max_pool2d_backward");
  must(p.cpu, p.c, p.cpu.max_pool2d_backward(p.c, &pool, px.cpu, py.cpu, pdy.cpu, dx.cpu, stride), "max_pool2d_backward");
  d = compare(p.from_gpu(dx.gpu, dx.count), p.from_cpu(dx.cpu, dx.count));
  report(d.differing == 0, at + "max_pool2d_backward (tied maxima) = CPU", d.text());
  for (const auto* b : {&x, &y, &dy, &dx, &gradient, &bias_gradient, &thetas, &biases, &px, &py, &pdy}) p.release(*b);
  p.release(rows);
  p.release(sources);
}

// Every store of two networks (theta, structure, state arrays, biases) is the same bits.
bool same_stores(deepr::Network& a, deepr::Network& b) {
  for (size_t l = 0; l < a.layers().size(); ++l) {
    const std::vector<deepr::StoreRef> x = a.layers()[l]->stores(), y = b.layers()[l]->stores();
    for (size_t s = 0; s < x.size(); ++s) {
      if (x[s].sparse && (x[s].sparse->row_start != y[s].sparse->row_start || x[s].sparse->source != y[s].sparse->source ||
                          compare(x[s].sparse->theta, y[s].sparse->theta).differing))
        return false;
      const deepr::StateArrays& xs = x[s].sparse ? x[s].sparse->states : x[s].dense->states;
      const deepr::StateArrays& ys = y[s].sparse ? y[s].sparse->states : y[s].dense->states;
      for (size_t a_state = 0; a_state < xs.size(); ++a_state)
        if (compare(xs[a_state].values, ys[a_state].values).differing) return false;
      if (x[s].dense && compare(x[s].dense->value, y[s].dense->value).differing) return false;
    }
  }
  return a.step() == b.step();
}

// A small cnn (the paper's layer order on 1 x 16 x 16 images) trained by DeviceTrainer on the GPU
// and by train_batches on the host, chunk by chunk, the invariant checked after every GPU step.
void check_cnn_training(const deepr_device& gpu, int32_t ordinal, bool momentum, bool global, uint32_t batch,
                        uint32_t epochs) {
  using namespace deepr;
  constexpr uint32_t side = 16, classes = 4, samples = 600;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<float> inputs(size_t(samples) * side * side);
  std::vector<int32_t> labels(samples);
  for (uint32_t s = 0; s < samples; ++s) {  // the label is the brightest quadrant: learnable by a cnn
    float* image = inputs.data() + size_t(s) * side * side;
    for (uint32_t i = 0; i < side * side; ++i) image[i] = value(rng);
    labels[s] = int32_t(rng() % classes);
    for (uint32_t y = 0; y < side / 2; ++y)
      for (uint32_t x = 0; x < side / 2; ++x)
        image[(y + side / 2 * uint32_t(labels[s] / 2)) * side + x + side / 2 * uint32_t(labels[s] % 2)] += 0.5f;
  }
  NetworkSpec spec;
  spec.seed = 3;
  spec.layers = {deepr_test::sparse_conv_spec({1, side, side, 8, 5, 5, 1, 2}, 80, true),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(8, side, side, 2, 2),
                 deepr_test::sparse_conv_spec({8, 8, 8, 8, 3, 3, 2, 1}, 150, true),
                 {"relu", {}, {}},
                 deepr_test::max_pool_spec(8, 4, 4, 2, 2),
                 {"sparse_linear", {{"inputs", 32}, {"outputs", 32}, {"budget", 300}}, {{"bias", true}}},
                 {"relu", {}, {}},
                 {"sparse_linear", {{"inputs", 32}, {"outputs", classes}, {"budget", 80}}, {{"bias", true}}},
                 {"softmax_cross_entropy", {}, {}}};
  spec.rule.optimiser = momentum ? "momentum" : "sgd";
  spec.rule.budget = global ? "global" : "layer";
  Network host(spec), on_gpu(spec);
  DeviceTrainer trainer(gpu, ordinal);
  const StepHyper hyper{0.05f, 1e-4f, 1e-3f, momentum ? 0.9f : 0.0f};
  const DataView data{inputs.data(), labels.data(), samples};
  const uint64_t per_epoch = (samples + batch - 1) / batch;
  std::string problem;
  uint64_t same_until = 0, regrown = 0;
  double first_loss = 0, last_loss = 0;
  for (uint32_t epoch = 0; epoch < epochs && problem.empty(); ++epoch) {
    const std::vector<uint32_t> order = epoch_order(spec.seed, epoch, samples);
    ChunkStats expected, got;
    train_batches(host, data, order, batch, 0, per_epoch, hyper, false, expected);
    try {
      trainer.train_batches(on_gpu, data, order, batch, 0, per_epoch, hyper, true, got);
    } catch (const std::exception& e) {
      problem = e.what();
      break;
    }
    double mean = 0;
    for (float l : got.batch_loss) mean += l / double(got.batch_loss.size());
    if (epoch == 0) first_loss = mean;
    last_loss = mean;
    for (uint64_t r : got.rewired) regrown += r;
    if (compare(got.batch_loss, expected.batch_loss).differing || got.rewired != expected.rewired || !same_stores(host, on_gpu))
      problem = "differs from the host in epoch " + std::to_string(epoch);
    else same_until = on_gpu.step();
  }
  const std::string name = std::string("cnn, ") + std::to_string(epochs) + " epochs, batch " + std::to_string(batch) +
                           (momentum ? ", momentum" : ", sgd") + (global ? ", global budget" : ", per-layer budget");
  report(problem.empty(), name + ": DeviceTrainer on the GPU = train_batches",
         problem.empty() ? format("%.0f steps, %.0f connections regrown, invariant held after every step", double(same_until),
                                  double(regrown))
                         : problem);
  report(problem.empty() && last_loss < 0.8 * first_loss, name + ": it learns",
         format("mean loss %.4f in the first epoch, %.4f in the last", first_loss, last_loss));
}

// Version 3's update rules: sparse_update under every optimiser and prior, and dense_update under
// every optimiser, on one random layer of about 100 000 slots, both devices, the same inputs:
// theta, every state array and the dying list must be the CPU's bits.
void check_update_rules(Pair& p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Shape s{"update rules", 2000, 300, 600, 0.05, 16, true, false};
  const HostLayer l = random_layer(s, rng);
  const uint32_t slots = uint32_t(l.source.size());
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> gradient(slots), bias_gradient(l.n_out), signed_theta(slots), m(slots), v(slots);
  for (uint32_t k = 0; k < slots; ++k) {
    gradient[k] = k % 7 == 0 ? 0.0f : 2.0f * unit(rng) - 1.0f;
    signed_theta[k] = k % 11 == 0 ? 0.0f : unit(rng) - 0.5f;  // a baseline's weights, some exactly 0
    m[k] = unit(rng) - 0.5f;
    v[k] = 0.01f * unit(rng);
  }
  for (float& g : bias_gradient) g = 2.0f * unit(rng) - 1.0f;
  auto row_start = p.upload(l.row_start);
  auto source = p.upload(l.source);
  auto theta = p.alloc<float>(slots);
  auto state0 = p.alloc<float>(slots), state1 = p.alloc<float>(slots);
  auto g = p.upload(gradient);
  auto bias = p.alloc<float>(l.n_out), bias_state0 = p.alloc<float>(l.n_out), bias_state1 = p.alloc<float>(l.n_out);
  auto bg = p.upload(bias_gradient);
  const char* optimisers[] = {"sgd", "momentum", "adam"};
  const char* priors[] = {"deep-r", "none", "l2", "l1-shrink"};
  for (uint32_t optimiser = DEEPR_OPTIMISER_SGD; optimiser <= DEEPR_OPTIMISER_ADAM; ++optimiser)
    for (uint32_t prior = DEEPR_PRIOR_DEEP_R; prior <= DEEPR_PRIOR_L1_SHRINK; ++prior) {
      const uint32_t states = optimiser == DEEPR_OPTIMISER_ADAM ? 2 : optimiser == DEEPR_OPTIMISER_MOMENTUM ? 1 : 0;
      p.write(theta, prior == DEEPR_PRIOR_DEEP_R ? l.theta : signed_theta);
      p.write(state0, optimiser == DEEPR_OPTIMISER_ADAM ? m : l.velocity);
      p.write(state1, v);
      p.write(bias, l.bias);
      p.write(bias_state0, optimiser == DEEPR_OPTIMISER_ADAM ? std::vector<float>(m.begin(), m.begin() + l.n_out) : l.bias_velocity);
      p.write(bias_state1, std::vector<float>(v.begin(), v.begin() + l.n_out));
      const auto views = [&](bool gpu) {
        deepr_sparse_view w{l.n_in, l.n_out, 7, slots, gpu ? row_start.gpu : row_start.cpu, gpu ? source.gpu : source.cpu,
                            gpu ? theta.gpu : theta.cpu, states, {gpu ? state0.gpu : state0.cpu, gpu ? state1.gpu : state1.cpu}};
        deepr_dense_view b{l.n_out, gpu ? bias.gpu : bias.cpu, states,
                           {gpu ? bias_state0.gpu : bias_state0.cpu, gpu ? bias_state1.gpu : bias_state1.cpu}};
        return std::make_pair(w, b);
      };
      auto [wg, bgv] = views(true);
      auto [wc, bcv] = views(false);
      // lr * alpha = 0.1: about a fifth of DEEP R's slots die, l1-shrink zeroes weights.
      const deepr_update u{optimiser, prior, 0.05f, 2.0f, 0.02f, 0.9f, seed, 41, 7,
                           0.5f, 0.9f, 0.999f, 1e-8f, float(1.0 - std::pow(0.9, 3.0)), float(1.0 - std::pow(0.999, 3.0))};
      std::vector<uint32_t> dying_g(slots + 1), dying_c(slots + 1);
      uint32_t died_g = 0, died_c = 0;
      must(p.gpu, p.g, p.gpu.sparse_update(p.g, &wg, g.gpu, &u, dying_g.data(), slots, &died_g), "sparse_update");
      must(p.cpu, p.c, p.cpu.sparse_update(p.c, &wc, g.cpu, &u, dying_c.data(), slots, &died_c), "sparse_update");
      dying_g.resize(died_g);
      dying_c.resize(died_c);
      must(p.gpu, p.g, p.gpu.dense_update(p.g, &bgv, bg.gpu, &u), "dense_update");
      must(p.cpu, p.c, p.cpu.dense_update(p.c, &bcv, bg.cpu, &u), "dense_update");
      Difference d = compare(p.from_gpu(theta.gpu, slots), p.from_cpu(theta.cpu, slots));
      Difference ds = compare(p.from_gpu(state0.gpu, states > 0 ? slots : 0), p.from_cpu(state0.cpu, states > 0 ? slots : 0));
      Difference dv = compare(p.from_gpu(state1.gpu, states > 1 ? slots : 0), p.from_cpu(state1.cpu, states > 1 ? slots : 0));
      Difference db = compare(p.from_gpu(bias.gpu, l.n_out), p.from_cpu(bias.cpu, l.n_out));
      const std::string name = std::string("update rules: ") + optimisers[optimiser] + ", prior " + priors[prior] + ": ";
      report(d.differing == 0 && ds.differing == 0 && dv.differing == 0, name + "sparse_update theta and state = CPU",
             d.text() + "; state " + ds.text() + ", " + dv.text());
      report(dying_g == dying_c && (prior == DEEPR_PRIOR_DEEP_R ? died_c > 0 : died_c == 0), name + "dying list = CPU",
             format("%.0f and %.0f slots died", died_g, died_c));
      ds = compare(p.from_gpu(bias_state0.gpu, states > 0 ? l.n_out : 0), p.from_cpu(bias_state0.cpu, states > 0 ? l.n_out : 0));
      dv = compare(p.from_gpu(bias_state1.gpu, states > 1 ? l.n_out : 0), p.from_cpu(bias_state1.cpu, states > 1 ? l.n_out : 0));
      report(db.differing == 0 && ds.differing == 0 && dv.differing == 0, name + "dense_update = CPU",
             db.text() + "; state " + ds.text() + ", " + dv.text());
    }
  for (const auto* b : {&theta, &state0, &state1, &g, &bias, &bias_state0, &bias_state1, &bg}) p.release(*b);
  p.release(row_start);
  p.release(source);
}

// The production DeviceTrainer on the GPU against train_batches on the host, bit for bit, under
// version 3's rules: Adam with DEEP R (connections rewired every step) and a baseline's signed
// prior with fixed sparsity.
void check_device_trainer(const deepr_device& gpu, int32_t ordinal, const char* optimiser, const char* prior,
                          const char* structure, uint32_t batches) {
  using namespace deepr;
  const std::vector<uint32_t> sizes{64, 48, 32, 10};
  const std::vector<uint64_t> budgets{600, 300, 120};
  const uint32_t samples = 1000, batch = 50;
  std::mt19937_64 rng(98);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<float> inputs(size_t(samples) * sizes.front());
  std::vector<int32_t> labels(samples);
  for (uint32_t s = 0; s < samples; ++s) {
    float* row = inputs.data() + size_t(s) * sizes.front();
    for (uint32_t i = 0; i < sizes.front(); ++i) row[i] = value(rng);
    labels[s] = int32_t(std::max_element(row, row + 10) - row);
  }
  NetworkSpec spec = deepr_test::mlp_spec(sizes, budgets, true, false, false, GlobalShare::kByBudget, 5);
  spec.rule = RuleSpec{optimiser, prior, structure, "layer", "budget", {}};
  Network host(spec), on_gpu(spec);
  DeviceTrainer trainer(gpu, ordinal);
  StepHyper hyper{std::string(optimiser) == "adam" ? 0.002f : 0.05f, 0.05f, 1e-3f, 0.9f};
  hyper.weight_decay = 0.01f;
  const DataView data{inputs.data(), labels.data(), samples};
  const uint64_t per_epoch = samples / batch;
  uint64_t regrown = 0, same_until = batches;
  for (uint64_t epoch = 0; host.step() < batches && same_until == batches; ++epoch) {
    const std::vector<uint32_t> order = epoch_order(spec.seed, epoch, samples);
    for (uint64_t first = 0; first < per_epoch && same_until == batches; first += 10) {  // chunks of 10 batches
      ChunkStats expected, got;
      train_batches(host, data, order, batch, first, 10, hyper, false, expected);
      trainer.train_batches(on_gpu, data, order, batch, first, 10, hyper, false, got);
      for (uint64_t r : got.rewired) regrown += r;
      bool same = expected.batch_loss == got.batch_loss && expected.batch_correct == got.batch_correct &&
                  expected.rewired == got.rewired;
      const std::vector<deepr_test::MlpLayer> x = deepr_test::mlp_layers(host), y = deepr_test::mlp_layers(on_gpu);
      for (size_t l = 0; same && l < x.size(); ++l) same = compare(y[l].bias, x[l].bias).differing == 0;
      for (size_t l = 0; same && l < host.sparse_stores().size(); ++l) {
        const SparseStore& a = *host.sparse_stores()[l];
        const SparseStore& b = *on_gpu.sparse_stores()[l];
        same = a.row_start == b.row_start && a.source == b.source && compare(b.theta, a.theta).differing == 0;
        for (size_t st = 0; same && st < a.states.size(); ++st) same = compare(b.states[st].values, a.states[st].values).differing == 0;
      }
      if (!same) same_until = host.step();
    }
  }
  const bool rewires = std::string(structure) == "deep-r";
  report(same_until == batches && (rewires ? regrown > batches : regrown == 0) && on_gpu.check().empty(),
         std::string("DeviceTrainer ") + optimiser + ", prior " + prior + ", structure " + structure + ": = train_batches",
         same_until == batches ? format("%.0f steps identical, %.0f connections regrown", double(batches), double(regrown))
                               : "first differs after step " + std::to_string(same_until));
}

// Clean errors: a status, a message, and the context still usable.
void check_errors(const deepr_device& gpu, int32_t ordinal, uint32_t count) {
  deepr_device_context* c = reinterpret_cast<deepr_device_context*>(&c);
  deepr_status status = gpu.open(int32_t(count), &c);
  report(status == DEEPR_INVALID_ARGUMENT && c == nullptr &&
             std::string(gpu.last_error(nullptr)).find("ordinal") != std::string::npos,
         "open(a bad ordinal) refused", gpu.last_error(nullptr));
  must(gpu, nullptr, gpu.open(ordinal, &c), "open");
  const auto refused = [&](deepr_status got, deepr_status expected, const std::string& name) {
    report(got == expected && std::string(gpu.last_error(c)).size() > 0, name,
           std::string("status ") + std::to_string(got) + ": " + gpu.last_error(c));
  };
  void* p = nullptr;
  const uint64_t huge = uint64_t(1) << 50;
  status = gpu.alloc(c, huge, &p);
  refused(status, DEEPR_OUT_OF_MEMORY, "alloc(2^50 bytes) is out of memory");
  report(p == nullptr && std::string(gpu.last_error(c)).find(std::to_string(huge)) != std::string::npos,
         "the out-of-memory message names the bytes", gpu.last_error(c));
  status = gpu.alloc(c, 1024, &p);
  report(status == DEEPR_OK && p != nullptr, "alloc works after an out-of-memory", gpu.last_error(c));
  refused(gpu.alloc(c, 0, &p), DEEPR_INVALID_ARGUMENT, "alloc(0) refused");
  status = gpu.synchronize(c);
  report(status == DEEPR_OK && std::string(gpu.last_error(c)).empty(), "synchronize after a refusal", gpu.last_error(c));

  // A 4 x 3 store with slots (0 -> 0), (2 -> 0), (1 -> 2), as in test_device_abi.cpp.
  const std::vector<uint32_t> row_start_host{0, 2, 2, 3}, source_host{0, 2, 1};
  const std::vector<float> theta_host{0.5f, 0.25f, 1.0f};
  const auto upload = [&](const void* host, size_t bytes) {
    void* d = nullptr;
    must(gpu, c, gpu.alloc(c, bytes, &d), "alloc");
    must(gpu, c, gpu.write(c, d, host, bytes), "write");
    return d;
  };
  auto* row_start = static_cast<uint32_t*>(upload(row_start_host.data(), 16));
  auto* source = static_cast<uint32_t*>(upload(source_host.data(), 12));
  auto* theta = static_cast<float*>(upload(theta_host.data(), 12));
  auto* x = static_cast<float*>(upload(std::vector<float>(64, 1.0f).data(), 256));
  auto* y = static_cast<float*>(upload(std::vector<float>(48, 0.0f).data(), 192));
  deepr_sparse_view w{4, 3, 0, 3, row_start, source, theta, 0, {}};
  refused(gpu.sparse_forward(c, &w, nullptr, x, y, 20, 0), DEEPR_INVALID_ARGUMENT, "a stride of 20 refused");
  const float nan_gradient_host[3] = {0.0f, 0.0f, NAN};
  auto* gradient = static_cast<float*>(upload(nan_gradient_host, 12));
  uint32_t dying[3], died = 0;
  deepr_update u{7, DEEPR_PRIOR_DEEP_R, 0.1f, 0.0f, 0.0f, 0.0f, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  refused(gpu.sparse_update(c, &w, gradient, &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT, "an unknown optimiser refused");
  u.optimiser = DEEPR_OPTIMISER_MOMENTUM;
  refused(gpu.sparse_update(c, &w, gradient, &u, dying, 3, &died), DEEPR_INVALID_ARGUMENT, "momentum without its state refused");
  u.optimiser = DEEPR_OPTIMISER_SGD;
  refused(gpu.sparse_update(c, &w, gradient, &u, dying, 2, &died), DEEPR_INVALID_ARGUMENT, "a short dying list refused");
  refused(gpu.sparse_update(c, &w, gradient, &u, dying, 3, &died), DEEPR_NON_FINITE, "a NaN gradient is non-finite");

  const int32_t bad_label = 3;
  auto* labels = static_cast<int32_t*>(upload(&bad_label, 4));
  double loss_sum = 0;
  uint32_t correct = 0;
  refused(gpu.softmax_cross_entropy(c, y, labels, 3, 1, 16, nullptr, &loss_sum, &correct), DEEPR_INVALID_ARGUMENT,
          "a label that is not a class refused");

  must(gpu, c, gpu.write(c, theta, theta_host.data(), 12), "write");
  const uint32_t dying_slot[1] = {0};
  const uint64_t unsorted[2] = {3, 1}, active_position[1] = {2 * 4 + 1};
  refused(gpu.rewire(c, &w, 3, 0, dying_slot, 1, unsorted, 2), DEEPR_INVALID_ARGUMENT, "rewire over capacity refused");
  refused(gpu.rewire(c, &w, 5, 0, dying_slot, 1, unsorted, 2), DEEPR_INVALID_ARGUMENT, "rewire of unsorted born refused");
  refused(gpu.rewire(c, &w, 3, 0, dying_slot, 1, active_position, 1), DEEPR_INVALID_ARGUMENT,
          "rewire of a born active slot refused");
  deepr_sparse_view wrong_slots = w;
  wrong_slots.slots = 2;
  refused(gpu.rewire(c, &wrong_slots, 3, 0, dying_slot, 1, unsorted + 1, 1), DEEPR_INVALID_ARGUMENT,
          "rewire of a view whose slots are not row_start's refused");
  std::vector<uint32_t> row_start_after(4), source_after(3);
  must(gpu, c, gpu.read(c, row_start_after.data(), row_start, 16), "read");
  must(gpu, c, gpu.read(c, source_after.data(), source, 12), "read");
  report(w.slots == 3 && row_start_after == row_start_host && source_after == source_host, "a refused rewire changes nothing",
         "");
  gpu.close(c);
}

// close gives back every buffer of the context (cudaMemGetInfo before and after).
void check_close_frees(const deepr_device& gpu, int32_t ordinal) {
  if (cudaSetDevice(ordinal) != cudaSuccess) {
    report(false, "close frees the context's memory", "cudaSetDevice failed in the test program");
    return;
  }
  size_t free_before = 0, free_held = 0, free_after = 0, total = 0;
  cudaMemGetInfo(&free_before, &total);
  deepr_device_context* c = nullptr;
  must(gpu, nullptr, gpu.open(ordinal, &c), "open");
  const uint64_t chunk = uint64_t(256) << 20;
  for (int n = 0; n < 4; ++n) {
    void* p = nullptr;
    must(gpu, c, gpu.alloc(c, chunk, &p), "alloc");
  }
  cudaMemGetInfo(&free_held, &total);
  gpu.close(c);
  cudaMemGetInfo(&free_after, &total);
  const double mib = 1 << 20;
  report(free_before - free_held >= 4 * chunk && free_after + (64u << 20) >= free_before, "close frees the context's memory",
         format("free %.0f MiB before open, %.0f with 1 GiB allocated, %.0f after close", free_before / mib,
                free_held / mib, free_after / mib));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s path/to/libdeepr_cuda.so [ordinal]\n", argv[0]);
    return 2;
  }
  const int32_t ordinal = argc > 2 ? std::atoi(argv[2]) : 0;
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::printf("FAIL  dlopen: %s\n", dlerror());
    return 1;
  }
  const auto entry = reinterpret_cast<deepr_device_entry>(dlsym(library, DEEPR_DEVICE_ENTRY_NAME));
  if (!entry) {
    std::printf("FAIL  %s is not exported\n", DEEPR_DEVICE_ENTRY_NAME);
    return 1;
  }
  const deepr_device* table = entry(DEEPR_DEVICE_ABI_VERSION);
  report(table && entry(1) == table && !entry(0) && !entry(DEEPR_DEVICE_ABI_VERSION + 1) &&
             table->abi_version == DEEPR_DEVICE_ABI_VERSION && table->struct_size == sizeof(deepr_device) &&
             std::string(table->name) == "cuda",
         "the table: versions 1 to 3, name cuda", table ? table->name : "no table");
  if (!table) return 1;
  const deepr_device& gpu = *table;
  const deepr_device& cpu = *deepr_cpu_device_table(DEEPR_DEVICE_ABI_VERSION);

  uint32_t count = 0;
  const deepr_status counted = gpu.device_count(&count);
  report(counted == DEEPR_OK && count > 0, "device_count", counted == DEEPR_OK ? std::to_string(count) : gpu.last_error(nullptr));
  if (counted != DEEPR_OK) return 1;
  char description[512];
  const deepr_status described = gpu.describe(ordinal, description, sizeof description);
  report(described == DEEPR_OK && std::strstr(description, "\"computeCapability\"") && std::strstr(description, "\"driver\""),
         "describe", described == DEEPR_OK ? description : "refused");
  report(gpu.describe(int32_t(count), description, sizeof description) == DEEPR_INVALID_ARGUMENT &&
             gpu.describe(ordinal, description, 8) == DEEPR_INVALID_ARGUMENT,
         "describe refuses a bad ordinal and a short buffer", "");

  Pair pair{gpu, cpu};
  must(gpu, nullptr, gpu.open(ordinal, &pair.g), "open");
  must(cpu, nullptr, cpu.open(0, &pair.c), "open");
  const std::vector<Shape> shapes{
      {"1 -> 1, batch 1", 1, 1, 1, 0.0, 1, true, false},
      {"7 -> 5, one slot per row, batch 16", 7, 5, 1, 0.0, 16, false, true},
      {"33 -> 17, full rows, batch 100", 33, 17, 33, 0.0, 100, true, true},
      {"300 -> 10, rectangular, batch 100", 300, 10, 60, 0.0, 100, true, false},
      {"10 -> 300, batch 128", 10, 300, 6, 0.1, 128, false, false},
      {"257 -> 129, 40% empty rows, batch 128", 257, 129, 64, 0.4, 128, true, true},
      {"100000 -> 20, 100 000 wide input, batch 16", 100000, 20, 3000, 0.0, 16, true, true},
      {"64 -> 100000, 100 000 wide output, batch 1", 64, 100000, 3, 0.2, 1, true, false},
  };
  uint64_t seed = 1;
  for (const Shape& s : shapes) check_shape(pair, s, seed++);
  const std::vector<ConvShape> conv_shapes{
      {"conv 1x1 kernel, one channel, batch 1", {1, 5, 7, 3, 1, 1, 1, 0}, 1.0, 1, true, 2, 2},
      {"conv 5x5, padding 2, batch 40", {2, 12, 12, 4, 5, 5, 1, 2}, 0.5, 40, true, 3, 1},
      {"conv 3x3, stride 2, padding 1, batch 128", {4, 9, 10, 6, 3, 3, 2, 1}, 0.3, 128, false, 2, 3},
      {"conv empty kernel, batch 16", {3, 6, 6, 2, 3, 3, 1, 1}, 0.0, 16, true, 2, 2},
      {"conv 28x28 MNIST-like, 32 channels, batch 100", {1, 28, 28, 32, 5, 5, 1, 0}, 0.2, 100, true, 2, 2},
  };
  for (const ConvShape& s : conv_shapes) check_conv_shape(pair, s, seed++);
  check_update_rules(pair, seed++);
  gpu.close(pair.g);
  cpu.close(pair.c);

  check_training(gpu, ordinal, cpu, false, false, 32, 3000);
  check_training(gpu, ordinal, cpu, true, true, 100, 2000);
  check_cnn_training(gpu, ordinal, false, false, 32, 8);
  check_cnn_training(gpu, ordinal, true, true, 50, 8);
  check_device_trainer(gpu, ordinal, "adam", "deep-r", "deep-r", 600);
  check_device_trainer(gpu, ordinal, "sgd", "l2", "fixed", 600);
  check_device_trainer(gpu, ordinal, "momentum", "l1-shrink", "fixed", 600);
  check_errors(gpu, ordinal, count);
  check_close_frees(gpu, ordinal);
  if (deepr_test::failures()) report(false, "the MLP driver's own checks (device_mlp.hpp)", std::to_string(deepr_test::failures()));
  std::printf("%s: %d check(s) failed\n", failed_checks ? "FAIL" : "pass", failed_checks);
  return failed_checks ? 1 : 0;
}
