// sparse_lstm: a long short-term memory layer with a forget gate whose input and recurrent weight
// matrices are sparse stores rewired by DEEP R (Bellec et al. 2018, sec. 3, the TIMIT LSTM),
// trained by backpropagation through time over the whole sequence.
//
// Input: `steps` vectors of `features` values, flattened per sample as feature t * features + f.
// Per step t, the four gates in the order input, forget, cell, output (i | f | g | o, `units`
// each):
//   z_t = W_x x_t + W_h h_{t-1} + b
//   i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g)
//   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),  with h_{-1} = c_{-1} = 0
// Output: h of the last step ([units]), or with `sequence` h of every step ([steps, units],
// feature t * units + u), for a readout layer above.
//
// Stores: "input_weight" (sparse, features -> 4 units), "recurrent_weight" (sparse, units -> 4
// units) and "bias" (dense, 4 units; the forget gate's part starts at 1, so that the cell keeps its
// state until training learns to forget, Gers et al. 2000).
//
// One budget per matrix, not per gate: each matrix is an ordinary sparse store (position
// out * n_in + in), so DeepRStructure, the global budget and the random streams treat it exactly
// as a sparse_linear weight, with no change; and the four gates of a matrix compete for its
// connections, so DEEP R moves them to the gates that need them instead of fixing a quarter each.
//
// Memory: O(K) for the parameters, never a dense matrix; for BPTT the gates, cell and hidden state
// of every step are kept from the forward pass: 6 * steps * units floats per sample (O(B T U)).
#pragma once

#include <cstdint>
#include <vector>

#include "layer.hpp"

namespace deepr {

class SparseLstm final : public Layer {
 public:
  // Each weight store initialised as a sparse_linear weight (K distinct uniform positions,
  // theta = |N(0, 1)| / sqrt(n_in), fixed random signs); the input store takes id `input_id`, the
  // recurrent store id `input_id + 1`.
  SparseLstm(uint32_t steps, uint32_t features, uint32_t units, uint64_t input_budget, uint64_t recurrent_budget,
             bool sequence, uint32_t input_id, uint64_t seed);

  const char* kind() const override { return "sparse_lstm"; }
  uint32_t inputs() const override { return steps_ * input_.n_in; }
  uint32_t outputs() const override { return sequence_ ? steps_ * units_ : units_; }
  std::vector<StoreRef> stores() override;

  void forward(const float* x, float* y, uint32_t stride) override;
  // Backpropagation through time from dy (the last step's or every step's dE/dh) over the states
  // kept by this batch's forward(); the gradients of each store summed over the steps.
  void backward(const float* x, const float* y, const float* dy, float* dx, uint32_t stride,
                LayerGradients& gradients) override;

  SparseStore& input_weight() { return input_; }
  SparseStore& recurrent_weight() { return recurrent_; }
  DenseStore& bias() { return bias_; }

 private:
  uint32_t steps_, units_;
  bool sequence_;
  SparseStore input_, recurrent_;
  DenseStore bias_;
  // The forward pass's states, [step][value][sample]: the gates after their nonlinearity
  // (4 units per step), the cell states and the hidden states (units per step).
  std::vector<float> gates_, cells_, hidden_;
  // Working memory of a pass: W_h h_{t-1}, then dE/dz_t, dE/dh, dE/dc and one step's store gradients.
  std::vector<float> recurrent_in_, dz_, dh_, dc_, step_gradient_;
};

}  // namespace deepr
