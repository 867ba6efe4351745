#include "distributed/data_parallel_exchange.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "distributed/state_agreement.hpp"

namespace deepr {

namespace {

constexpr size_t kLossFields = 4;  // loss sum, correct, rows, not finite

size_t gradient_count(const std::vector<LayerGradients>& layers) {
  size_t count = 0;
  for (const LayerGradients& layer : layers)
    for (const std::vector<float>& store : layer.stores) count += store.size();
  return count;
}

}  // namespace

void pack_gradients(const std::vector<LayerGradients>& layers, const BatchLoss& loss, std::vector<float>& buffer) {
  buffer.resize(gradient_count(layers) + kLossFields);
  // A mean times its rows: a sum that adds across processes. Exact when the rows are a power of 2.
  const float rows = float(loss.samples);
  float* out = buffer.data();
  for (const LayerGradients& layer : layers)
    for (const std::vector<float>& store : layer.stores)
      for (const float g : store) *out++ = g * rows;
  const bool finite = std::isfinite(loss.loss.loss_sum);
  out[0] = finite ? float(loss.loss.loss_sum) : 0.0f;
  out[1] = float(loss.loss.correct);
  out[2] = rows;
  out[3] = finite ? 0.0f : 1.0f;
}

void unpack_gradients(const std::vector<float>& buffer, std::vector<LayerGradients>& layers, BatchLoss& loss) {
  if (buffer.size() != gradient_count(layers) + kLossFields)
    throw std::logic_error("the exchanged buffer holds " + std::to_string(buffer.size()) + " values for " +
                           std::to_string(gradient_count(layers) + kLossFields));
  const float* in = buffer.data();
  const float* totals = in + buffer.size() - kLossFields;
  const float rows = totals[2];
  for (LayerGradients& layer : layers)
    for (std::vector<float>& store : layer.stores)
      for (float& g : store) g = *in++ / rows;
  loss.loss.loss_sum = totals[3] > 0 ? std::numeric_limits<double>::quiet_NaN() : double(totals[0]);
  loss.loss.correct = uint32_t(totals[1]);
  loss.samples = uint32_t(rows);
}

GradientExchange data_parallel_exchange(Collective& collective, const Network& net, uint64_t agree_every,
                                        ExchangeMeter* meter) {
  return [&collective, &net, agree_every, meter, buffer = std::vector<float>()](std::vector<LayerGradients>& layers,
                                                                                BatchLoss& loss) mutable {
    pack_gradients(layers, loss, buffer);
    // Every process decides from the step count alone, so all send buffers of the same size.
    const bool agree = agree_every > 0 && net.step() % agree_every == 0;
    const size_t packed = buffer.size();
    if (agree) {
      buffer.resize(packed + size_t(kHashSlots) * collective.ranks());
      pack_state_hash(state_hash(net), collective.rank(), collective.ranks(), buffer.data() + packed);
    }
    const auto started = std::chrono::steady_clock::now();
    collective.sum(buffer.data(), buffer.size());
    if (meter) {
      meter->all_reduces += 1;
      meter->bytes += buffer.size() * sizeof(float);
      meter->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    if (agree) {
      const std::string problem = state_disagreement(buffer.data() + packed, collective.ranks());
      if (!problem.empty())
        throw std::runtime_error("data-parallel training stopped at step " + std::to_string(net.step()) + ": " + problem +
                                 ", so the processes no longer train the same network (one resumed from another "
                                 "checkpoint, or a fault changed its memory)");
      buffer.resize(packed);
    }
    unpack_gradients(buffer, layers, loss);
  };
}

}  // namespace deepr
