// The kernels at every batch width, where the 16-lane vectors and the unrolled sweeps have their
// boundaries: against float64 computations, and reduced to digests on fixed inputs, so that
// builds for different SIMD targets can be compared bit for bit (scripts/simd-targets.sh): the
// gather, the forward pass, the fused backward and update, the softmax, the generators, and whole
// training steps.
//
// Within one process the digests must come out the same twice (at two thread counts). With
// DEEPR_KERNEL_DIGESTS=file they are written to the file; with DEEPR_KERNEL_DIGESTS_EXPECTED=file
// each is compared with the one in the file, which another build wrote.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "check.hpp"
#include "loss.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "random.hpp"
#include "simd.hpp"
#include "sparse_kernels.hpp"
#include "thread_pool.hpp"
#include "training.hpp"

using namespace deepr;

namespace {

// FNV-1a over the bytes of everything added, in order.
class Digest {
 public:
  template <class T>
  Digest& add(const std::vector<T>& v) {
    return add_bytes(v.data(), v.size() * sizeof(T));
  }
  template <class T>
  Digest& add_value(T v) {
    return add_bytes(&v, sizeof v);
  }
  uint64_t value() const { return hash_; }

 private:
  Digest& add_bytes(const void* p, size_t n) {
    const unsigned char* bytes = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ull;
    return *this;
  }
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

// A value in [-0.5, 0.5) from an integer, by integer arithmetic only (no libm, so the inputs
// themselves cannot differ between builds).
float fixed_value(uint64_t n) { return float(uint32_t((n + 1) * 2654435761u) >> 8) / 16777216.0f - 0.5f; }

std::vector<float> fixed_values(size_t count, uint64_t salt) {
  std::vector<float> v(count);
  for (size_t n = 0; n < count; ++n) v[n] = fixed_value(n * 7919 + salt);
  return v;
}

// The stores of a sparse_linear layer as the kernels take them: a weight store holding about one
// position in `every`, theta in (0, 0.1), an optional bias store (size 0 without), and velocities
// with momentum.
struct FixedLayer {
  SparseStore store;
  DenseStore bias_store;
  std::vector<float>& theta;
  const std::vector<uint32_t>& row_start;
  const std::vector<uint32_t>& source;
  std::vector<float>& bias;

  FixedLayer(uint32_t n_in, uint32_t n_out, uint32_t every, bool with_bias, bool momentum)
      : store(n_in, n_out, 1, 99, 1), bias_store(with_bias ? n_out : 0), theta(store.theta), row_start(store.row_start),
        source(store.source), bias(bias_store.value) {
    std::vector<uint64_t> positions;
    std::vector<float> thetas;
    for (uint64_t p = 0; p < store.positions(); ++p)
      if (uint32_t(p * 2246822519u) % every == 0) {
        positions.push_back(p);
        thetas.push_back(0.05f + 0.09f * fixed_value(p));
      }
    store.assign(positions, thetas);
    const std::vector<std::string> states = momentum ? std::vector<std::string>{"velocity"} : std::vector<std::string>{};
    keep_states(store.states, states, store.active());
    keep_states(bias_store.states, states, bias_store.value.size());
    if (with_bias) bias = fixed_values(n_out, 5);
  }
  FixedLayer(const FixedLayer& other)
      : store(other.store), bias_store(other.bias_store), theta(store.theta), row_start(store.row_start),
        source(store.source), bias(bias_store.value) {}

  uint64_t active() const { return store.active(); }
  SparseView weight_view() { return store.view(); }
  DenseView bias_view() { return bias_store.view(); }
  std::vector<float> velocity() const { const auto* v = find_state(store.states, "velocity"); return v ? *v : std::vector<float>{}; }
  std::vector<float> bias_velocity() const { const auto* v = find_state(bias_store.states, "velocity"); return v ? *v : std::vector<float>{}; }
};

FixedLayer fixed_layer(uint32_t n_in, uint32_t n_out, uint32_t every, bool bias, bool momentum) {
  return FixedLayer(n_in, n_out, every, bias, momentum);
}

// The update of the kernels' tests: SGD or momentum, with DEEP R's prior.
SlotUpdate slot_update(float lr, float alpha, float noise_std, float momentum, bool with_momentum, RngStream noise) {
  Rule rule;
  rule.optimiser = with_momentum ? OptimiserKind::kMomentum : OptimiserKind::kSgd;
  return SlotUpdate{rule, StepHyper{lr, alpha, noise_std, momentum}, noise};
}

// Strides of one to four whole 16-lane vectors (the unrolled sweeps) and beyond (the loop),
// with batches that leave padding samples.
const uint32_t kBatches[] = {7, 16, 40, 64, 77, 130};

double weight_of(const FixedLayer& layer, uint32_t k) {
  return (layer.source[k] & kSignBit) ? -double(layer.theta[k]) : double(layer.theta[k]);
}

std::map<std::string, uint64_t> kernel_digests() {
  std::map<std::string, uint64_t> digests;
  const auto& batches = kBatches;

  for (uint32_t features : {37u, 784u})
    for (uint32_t batch : batches) {
      const uint32_t count = 200, stride = padded_batch(batch);
      const std::vector<float> inputs = fixed_values(size_t(count) * features, features);
      std::vector<uint32_t> rows(batch);
      for (uint32_t b = 0; b < batch; ++b) rows[b] = (b * 37 + 11) % count;
      std::vector<float> x(size_t(features) * stride), y(size_t(features) * stride);
      gather_feature_major(inputs.data(), features, rows.data(), 0, batch, stride, x.data());
      gather_feature_major(inputs.data(), features, nullptr, 13, batch, stride, y.data());
      digests["gather/" + std::to_string(features) + "x" + std::to_string(batch)] = Digest().add(x).add(y).value();
    }

  for (uint32_t batch : batches) {
    const uint32_t stride = padded_batch(batch), n_in = 300, n_out = 64;
    FixedLayer layer = fixed_layer(n_in, n_out, 5, true, false);
    const std::vector<float> x = fixed_values(size_t(n_in) * stride, batch);
    std::vector<float> y(size_t(n_out) * stride), z(size_t(n_out) * stride);
    sparse_forward(layer.weight_view(), layer.bias_view(), x.data(), y.data(), stride, true);
    sparse_forward(layer.weight_view(), layer.bias_view(), x.data(), z.data(), stride, false);
    digests["forward/" + std::to_string(batch)] = Digest().add(y).add(z).value();
  }

  for (uint32_t batch : batches)
    for (const bool momentum : {false, true})
      for (const bool input_gradient : {false, true}) {
        const uint32_t stride = padded_batch(batch), n_in = 300, n_out = 64;
        FixedLayer layer = fixed_layer(n_in, n_out, 3, true, momentum);
        const std::vector<float> x = fixed_values(size_t(n_in) * stride, batch + 1);
        std::vector<float> dz = fixed_values(size_t(n_out) * stride, batch + 2);
        for (uint32_t out = 0; out < n_out; ++out) std::fill(dz.begin() + size_t(out) * stride + batch, dz.begin() + size_t(out + 1) * stride, 0.0f);
        std::vector<float> dx(input_gradient ? size_t(n_in) * stride : 0);
        std::vector<uint32_t> dormant;
        const SlotUpdate update = slot_update(0.5f, 1e-3f, 0.01f, momentum ? 0.9f : 0.0f, momentum, RngStream{4, 17, 1, Purpose::kNoise});
        for (int step = 0; step < 2; ++step)  // the second step with a velocity, when there is one
          sparse_backward_update(layer.weight_view(), layer.bias_view(), x.data(), dz.data(), input_gradient ? dx.data() : nullptr,
                                 stride, update, dormant);
        digests["backward_update/" + std::to_string(batch) + (momentum ? "/momentum" : "") + (input_gradient ? "/dx" : "")] =
            Digest().add(layer.theta).add(layer.velocity()).add(layer.bias).add(layer.bias_velocity()).add(dx).add(dormant).value();
      }
  {
    // A first layer large enough that its sweep is split into parts when there are threads.
    FixedLayer layer = fixed_layer(784, 300, 8, false, false);
    const uint32_t stride = 64;
    const std::vector<float> x = fixed_values(size_t(784) * stride, 1), dz = fixed_values(size_t(300) * stride, 2);
    std::vector<uint32_t> dormant;
    sparse_backward_update(layer.weight_view(), layer.bias_view(), x.data(), dz.data(), nullptr, stride,
                           slot_update(0.5f, 1e-3f, 0.01f, 0.0f, false, RngStream{4, 18, 0, Purpose::kNoise}), dormant);
    digests["backward_update/split"] = Digest().add(layer.theta).add(dormant).value();
  }

  for (uint32_t classes : {2u, 10u, 37u})
    for (uint32_t batch : batches) {
      const uint32_t stride = padded_batch(batch);
      std::vector<float> logits = fixed_values(size_t(classes) * stride, classes + batch);
      for (size_t n = 0; n < logits.size(); ++n) logits[n] *= float(n % 5 == 0 ? 400 : 20);  // some e^z underflow
      std::vector<int32_t> labels(batch);
      for (uint32_t b = 0; b < batch; ++b) labels[b] = int32_t((b * 7 + 1) % classes);
      std::vector<float> grad(logits.size());
      const LossResult r = softmax_cross_entropy(logits.data(), labels.data(), classes, batch, stride, grad.data());
      digests["softmax/" + std::to_string(classes) + "x" + std::to_string(batch)] =
          Digest().add(grad).add_value(r.loss_sum).add_value(r.correct).value();
    }

  {
    std::vector<float> normals(10000);
    fill_normals(RngStream{3, 5, 2, Purpose::kNoise}, 3, normals.size(), normals.data());
    std::vector<uint64_t> draws(1000);
    UniformIntegers(RngStream{3, 5, 2, Purpose::kRewire}).below(235200, draws.size(), draws.data());
    digests["random"] = Digest().add(normals).add(draws).value();
  }

  for (const bool global : {false, true}) {
    Network net(deepr_test::mlp_spec({37, 24, 16, 5}, {300, 150, 60}, true, true, global, GlobalShare::kByBudget, 12));
    const std::vector<float> inputs = fixed_values(100 * 37, 9);
    std::vector<int32_t> labels(100);
    for (uint32_t n = 0; n < 100; ++n) labels[n] = int32_t(n % 5);
    ChunkStats stats;
    train_batches(net, DataView{inputs.data(), labels.data(), 100}, epoch_order(12, 0, 100), 20, 0, 5,
                  StepHyper{0.3f, 1e-4f, 0.02f, 0.5f}, true, stats);
    Digest d;
    for (const deepr_test::MlpLayer& layer : deepr_test::mlp_layers(net))
      d.add(layer.theta).add(layer.source).add(layer.row_start).add(layer.bias);
    digests[std::string("training/") + (global ? "global" : "per_layer")] = d.add(stats.batch_loss).value();
  }

  // The baseline priors: signed theta, so nothing goes dormant; at every batch width.
  for (uint32_t batch : batches)
    for (const PriorKind prior : {PriorKind::kNone, PriorKind::kL2, PriorKind::kL1Shrink}) {
      const uint32_t stride = padded_batch(batch), n_in = 300, n_out = 64;
      FixedLayer layer = fixed_layer(n_in, n_out, 3, true, false);
      const std::vector<float> x = fixed_values(size_t(n_in) * stride, batch + 3);
      std::vector<float> dz = fixed_values(size_t(n_out) * stride, batch + 4);
      for (uint32_t out = 0; out < n_out; ++out) std::fill(dz.begin() + size_t(out) * stride + batch, dz.begin() + size_t(out + 1) * stride, 0.0f);
      std::vector<float> dx(size_t(n_in) * stride);
      std::vector<uint32_t> dormant;
      SlotUpdate update = slot_update(0.5f, 0.02f, 0.0f, 0.0f, false, RngStream{4, 19, 1, Purpose::kNoise});
      update.rule.prior = prior;
      update.rule.signed_theta = true;
      update.hyper.weight_decay = 0.05f;
      for (int step = 0; step < 2; ++step)
        sparse_backward_update(layer.weight_view(), layer.bias_view(), x.data(), dz.data(), dx.data(), stride, update, dormant);
      CHECK(dormant.empty());
      digests["backward_update/" + std::to_string(batch) + "/prior" + std::to_string(uint32_t(prior))] =
          Digest().add(layer.theta).add(layer.bias).add(dx).value();
    }
  {
    // Pruning (Han et al. 2015) of a dense MLP, twice within the run.
    NetworkSpec spec = deepr_test::mlp_spec({37, 24, 5}, {37 * 24, 24 * 5}, true, true, false, GlobalShare::kByBudget, 13);
    spec.rule.prior = "l2";
    spec.rule.structure = "prune";
    spec.rule.settings = {{"pruneStart", 1}, {"pruneEvery", 2}, {"pruneTimes", 2}, {"quality", 0.6}};
    Network net(spec);
    const std::vector<float> inputs = fixed_values(100 * 37, 10);
    std::vector<int32_t> labels(100);
    for (uint32_t n = 0; n < 100; ++n) labels[n] = int32_t(n % 5);
    ChunkStats stats;
    StepHyper hyper{0.3f, 0.0f, 0.0f, 0.5f};
    hyper.weight_decay = 1e-3f;
    train_batches(net, DataView{inputs.data(), labels.data(), 100}, epoch_order(13, 0, 100), 20, 0, 5, hyper, true, stats);
    Digest d;
    for (const deepr_test::MlpLayer& layer : deepr_test::mlp_layers(net))
      d.add(layer.theta).add(layer.source).add(layer.row_start).add(layer.bias);
    digests["training/prune"] = d.add(stats.batch_loss).value();
  }
  return digests;
}

}  // namespace

TEST(kernels_match_float64_at_every_batch_width) {
  for (uint32_t batch : kBatches) {
    const uint32_t stride = padded_batch(batch), n_in = 300, n_out = 64;

    // The gather: exact.
    const std::vector<float> inputs = fixed_values(size_t(batch) * n_in, 3);
    std::vector<float> x(size_t(n_in) * stride, -1.0f);
    gather_feature_major(inputs.data(), n_in, nullptr, 0, batch, stride, x.data());
    bool gathered = true;
    for (uint32_t i = 0; i < n_in; ++i)
      for (uint32_t b = 0; b < stride; ++b) gathered &= x[size_t(i) * stride + b] == (b < batch ? inputs[size_t(b) * n_in + i] : 0.0f);
    CHECK(gathered);

    // The forward pass, every sample (padding included): y = bias + sum of w x, ReLU.
    FixedLayer layer = fixed_layer(n_in, n_out, 3, true, false);
    std::vector<float> y(size_t(n_out) * stride);
    sparse_forward(layer.weight_view(), layer.bias_view(), x.data(), y.data(), stride, true);
    double forward_error = 0;
    for (uint32_t out = 0; out < n_out; ++out)
      for (uint32_t b = 0; b < stride; ++b) {
        double z = layer.bias[out];
        for (uint32_t k = layer.row_start[out]; k < layer.row_start[out + 1]; ++k)
          z += weight_of(layer, k) * x[size_t(layer.source[k] & kIndexMask) * stride + b];
        forward_error = std::max(forward_error, std::abs(y[size_t(out) * stride + b] - std::max(z, 0.0)));
      }
    CHECK(forward_error < 2e-6);  // measured at most 2.3e-7

    // One fused backward and update step, with momentum, the l1 pull and noise: per slot
    // g = sign * sum_b dz x, v = g, theta -= eta v + eta alpha - noise_std nu_k; dx = sum w dz;
    // the bias takes eta * sum_b dz. Padding samples of dz are zero, as the loss leaves them.
    FixedLayer updated = fixed_layer(n_in, n_out, 3, true, true);
    const FixedLayer before = updated;
    std::vector<float> dz = fixed_values(size_t(n_out) * stride, batch + 2);
    for (uint32_t out = 0; out < n_out; ++out) std::fill(dz.begin() + size_t(out) * stride + batch, dz.begin() + size_t(out + 1) * stride, 0.0f);
    std::vector<float> dx(size_t(n_in) * stride, 7.0f);
    std::vector<uint32_t> dormant;
    const SlotUpdate u = slot_update(0.5f, 0.02f, 0.01f, 0.9f, true, RngStream{4, 17, 1, Purpose::kNoise});
    sparse_backward_update(updated.weight_view(), updated.bias_view(), x.data(), dz.data(), dx.data(), stride, u, dormant);
    std::vector<float> nu(before.active());
    fill_normals(u.noise, 0, nu.size(), nu.data());
    std::vector<double> dx_ref(dx.size(), 0.0);
    double theta_error = 0, velocity_error = 0, bias_error = 0;
    bool dormant_right = true;
    for (uint32_t out = 0; out < n_out; ++out) {
      double bias_grad = 0;
      for (uint32_t b = 0; b < stride; ++b) bias_grad += dz[size_t(out) * stride + b];
      bias_error = std::max(bias_error, std::abs(updated.bias[out] - (before.bias[out] - 0.5 * bias_grad)));
      for (uint32_t k = before.row_start[out]; k < before.row_start[out + 1]; ++k) {
        const uint32_t in = before.source[k] & kIndexMask;
        double g = 0;
        for (uint32_t b = 0; b < stride; ++b) {
          g += double(dz[size_t(out) * stride + b]) * x[size_t(in) * stride + b];
          dx_ref[size_t(in) * stride + b] += weight_of(before, k) * dz[size_t(out) * stride + b];
        }
        if (before.source[k] & kSignBit) g = -g;
        const double theta = before.theta[k] - 0.5 * g - 0.5 * 0.02 + 0.01 * nu[k];
        theta_error = std::max(theta_error, std::abs(updated.theta[k] - theta));
        velocity_error = std::max(velocity_error, std::abs(updated.velocity()[k] - g));
        const bool listed = std::binary_search(dormant.begin(), dormant.end(), k);
        if (std::abs(theta) > 1e-5) dormant_right &= listed == (theta < 0);
      }
    }
    double dx_error = 0;
    for (size_t n = 0; n < dx.size(); ++n) dx_error = std::max(dx_error, std::abs(dx[n] - dx_ref[n]));
    CHECK(theta_error < 2e-6);  // these four measured at most 3e-7
    CHECK(velocity_error < 2e-6);
    CHECK(bias_error < 2e-6);
    CHECK(dx_error < 2e-6);
    CHECK(dormant_right && std::is_sorted(dormant.begin(), dormant.end()));

    // The softmax: dE/dz = (softmax - onehot) / batch, zero for padding samples.
    const uint32_t classes = 10;
    std::vector<float> logits = fixed_values(size_t(classes) * stride, batch);
    for (float& z : logits) z *= 20.0f;
    std::vector<int32_t> labels(batch);
    for (uint32_t b = 0; b < batch; ++b) labels[b] = int32_t((b * 7 + 1) % classes);
    std::vector<float> grad(logits.size(), 5.0f);
    const LossResult r = softmax_cross_entropy(logits.data(), labels.data(), classes, batch, stride, grad.data());
    double loss = 0, grad_error = 0;
    for (uint32_t b = 0; b < stride; ++b) {
      double top = -1e300, sum = 0;
      for (uint32_t c = 0; c < classes; ++c) top = std::max(top, double(logits[size_t(c) * stride + b]));
      for (uint32_t c = 0; c < classes; ++c) sum += std::exp(logits[size_t(c) * stride + b] - top);
      for (uint32_t c = 0; c < classes; ++c) {
        const double p = std::exp(logits[size_t(c) * stride + b] - top) / sum;
        const double g = b < batch ? (p - (int32_t(c) == labels[b])) / batch : 0.0;
        grad_error = std::max(grad_error, std::abs(grad[size_t(c) * stride + b] - g));
      }
      if (b < batch) loss += std::log(sum) + top - logits[size_t(labels[b]) * stride + b];
    }
    CHECK(grad_error < 1e-7);  // measured at most 2.7e-8
    CHECK_NEAR(r.loss_sum, loss, 1e-5 * loss);
  }
}

TEST(kernel_digests_are_repeatable_and_match_the_reference_build) {
  const unsigned threads = ThreadPool::shared().size();
  ThreadPool::shared().resize(1);
  const std::map<std::string, uint64_t> one_thread = kernel_digests();
  ThreadPool::shared().resize(4);
  const std::map<std::string, uint64_t> digests = kernel_digests();
  ThreadPool::shared().resize(threads);
  CHECK(digests == one_thread);

  if (const char* path = std::getenv("DEEPR_KERNEL_DIGESTS")) {
    std::ofstream out(path);
    for (const auto& [name, value] : digests) out << name << ' ' << std::hex << value << '\n';
    CHECK(bool(out));
  }
  if (const char* path = std::getenv("DEEPR_KERNEL_DIGESTS_EXPECTED")) {
    std::ifstream in(path);
    std::map<std::string, uint64_t> expected;
    std::string name;
    uint64_t value;
    while (in >> name >> std::hex >> value) expected[name] = value;
    CHECK(expected.size() == digests.size());
    for (const auto& [case_name, digest] : digests)
      if (expected.count(case_name) == 0 || expected.at(case_name) != digest)
        deepr_test::fail(__FILE__, __LINE__, "kernel case " + case_name + " differs from the build that wrote " + path);
  }
}
