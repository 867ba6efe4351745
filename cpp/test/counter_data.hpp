// A labelled data set drawn from a counter (counter_uniform.hpp), the same on every platform, and
// the fixed walk through it that the step tests train on.
#pragma once

#include <cstdint>
#include <vector>

#include "counter_uniform.hpp"

namespace deepr_test {

struct CounterData {
  std::vector<float> inputs;    // row-major, samples x features, in [-1, 1)
  std::vector<int32_t> labels;  // one of `classes` per sample
};

inline CounterData counter_data(uint32_t samples, uint32_t features, uint32_t classes) {
  CounterData data{std::vector<float>(size_t(samples) * features), std::vector<int32_t>(samples)};
  for (size_t n = 0; n < data.inputs.size(); ++n) data.inputs[n] = uniform(n);
  for (uint32_t s = 0; s < samples; ++s) data.labels[s] = int32_t(mix(1000000 + s) % classes);
  return data;
}

// The rows of step `step`, `batch` of them, of a data set of `samples` rows.
inline std::vector<uint32_t> walk_rows(uint32_t step, uint32_t batch, uint32_t samples) {
  std::vector<uint32_t> rows(batch);
  for (uint32_t b = 0; b < batch; ++b) rows[b] = uint32_t((uint64_t(step) * batch * 7 + uint64_t(b) * 13) % samples);
  return rows;
}

}  // namespace deepr_test
