// The feature-major gather (a tiled in-register transpose) against a plain loop.
#include <vector>

#include "check.hpp"
#include "simd.hpp"
#include "sparse_kernels.hpp"

using namespace deepr;

TEST(gather_transposes_rows_and_zero_pads) {
  for (const uint32_t features : {5u, 16u, 37u, 784u})
    for (const uint32_t batch : {1u, 10u, 16u, 33u}) {
      const uint32_t count = 50, stride = padded_batch(batch);
      std::vector<float> inputs(size_t(count) * features);
      for (size_t n = 0; n < inputs.size(); ++n) inputs[n] = float(n) + 0.25f;
      std::vector<uint32_t> rows(batch);
      for (uint32_t b = 0; b < batch; ++b) rows[b] = (b * 17 + 3) % count;
      std::vector<float> x(size_t(features) * stride, -1.0f), y(size_t(features) * stride, -1.0f);
      gather_feature_major(inputs.data(), features, rows.data(), 0, batch, stride, x.data());
      gather_feature_major(inputs.data(), features, nullptr, 7, batch, stride, y.data());
      for (uint32_t i = 0; i < features; ++i)
        for (uint32_t b = 0; b < stride; ++b) {
          CHECK(x[size_t(i) * stride + b] == (b < batch ? inputs[size_t(rows[b]) * features + i] : 0.0f));
          CHECK(y[size_t(i) * stride + b] == (b < batch ? inputs[size_t(7 + b) * features + i] : 0.0f));
        }
    }
}
