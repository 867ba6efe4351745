#include "sparse_layer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "random.hpp"

namespace deepr {

SparseLayer::SparseLayer(uint32_t n_in_, uint32_t n_out_, uint32_t index_, uint64_t seed_, bool with_bias,
                         bool with_momentum)
    : n_in(n_in_), n_out(n_out_), index(index_), seed(seed_), row_start(size_t(n_out_) + 1, 0),
      with_momentum_(with_momentum) {
  if (n_in == 0 || n_out == 0 || n_in > kMaxLayerSize || n_out > kMaxLayerSize)
    throw std::invalid_argument("layer sizes must be in [1, 2^31 - 1]");
  if (with_bias) {
    bias.assign(n_out, 0.0f);
    if (with_momentum) bias_velocity.assign(n_out, 0.0f);
  }
}

bool SparseLayer::contains(uint64_t position) const {
  const uint32_t out = uint32_t(position / n_in), in = uint32_t(position % n_in);
  const auto first = source.begin() + row_start[out], last = source.begin() + row_start[out + 1];
  const auto it = std::lower_bound(first, last, in, [](uint32_t s, uint32_t v) { return (s & kIndexMask) < v; });
  return it != last && (*it & kIndexMask) == in;
}

void SparseLayer::move_slots(uint32_t begin, uint32_t end, uint32_t to) {
  const size_t n = end - begin;
  std::memmove(source.data() + to, source.data() + begin, n * sizeof(uint32_t));
  std::memmove(theta.data() + to, theta.data() + begin, n * sizeof(float));
  if (with_momentum_) std::memmove(velocity.data() + to, velocity.data() + begin, n * sizeof(float));
}

uint64_t SparseLayer::remove_slots(const std::vector<uint32_t>& slots) {
  if (slots.empty()) return 0;
  // The slots between two removed ones form a run that moves down by the count removed before it.
  const uint32_t size = uint32_t(theta.size());
  uint32_t write = slots[0];
  for (size_t d = 0; d < slots.size(); ++d) {
    const uint32_t begin = slots[d] + 1, end = d + 1 < slots.size() ? slots[d + 1] : size;
    move_slots(begin, end, write);
    write += end - begin;
  }
  // Row offsets after the first removed slot drop by the count removed before them.
  size_t removed = 0;
  for (uint32_t out = uint32_t(std::upper_bound(row_start.begin(), row_start.end(), slots[0]) - row_start.begin());
       out <= n_out; ++out) {
    while (removed < slots.size() && slots[removed] < row_start[out]) ++removed;
    row_start[out] -= uint32_t(removed);
  }
  source.resize(write);
  theta.resize(write);
  if (with_momentum_) velocity.resize(write);
  return slots.size();
}

void SparseLayer::activate(const std::vector<uint64_t>& sorted_positions) {
  if (sorted_positions.empty()) return;
  const uint64_t old_size = theta.size(), count = sorted_positions.size();
  if (old_size + count > kMaxLayerSize) throw std::length_error("too many connections in one layer");
  // Where each new connection goes among the old slots, before anything moves.
  insert_at_.resize(count);
  for (size_t n = 0; n < count; ++n) {
    const uint32_t out = uint32_t(sorted_positions[n] / n_in), in = uint32_t(sorted_positions[n] % n_in);
    const auto first = source.begin() + row_start[out], last = source.begin() + row_start[out + 1];
    insert_at_[n] = uint32_t(std::lower_bound(first, last, in, [](uint32_t s, uint32_t v) { return (s & kIndexMask) < v; }) -
                             source.begin());
  }
  source.resize(old_size + count);
  theta.resize(old_size + count);
  if (with_momentum_) velocity.resize(old_size + count);
  // From the back: the old slots after new connection n move up by n + 1, and it lands just
  // before them.
  uint32_t end = uint32_t(old_size);
  for (size_t n = count; n-- > 0;) {
    const uint32_t at = insert_at_[n];
    move_slots(at, end, at + uint32_t(n) + 1);
    const uint64_t p = sorted_positions[n];
    source[at + n] = uint32_t(p % n_in) | (position_is_negative(seed, index, p) ? kSignBit : 0u);
    theta[at + n] = 0.0f;
    if (with_momentum_) velocity[at + n] = 0.0f;
    end = at;
  }
  // Row offsets grow by the count of new connections in the rows before: the offsets after the
  // row of new connection n, up to that of the next one, by n + 1.
  for (size_t n = 0; n < count; ++n) {
    const uint32_t row = uint32_t(sorted_positions[n] / n_in);
    const uint32_t next_row = n + 1 < count ? uint32_t(sorted_positions[n + 1] / n_in) : n_out;
    for (uint32_t out = row + 1; out <= next_row; ++out) row_start[out] += uint32_t(n + 1);
  }
}

void SparseLayer::assign(const std::vector<uint64_t>& sorted_positions, const std::vector<float>& thetas) {
  if (sorted_positions.size() != thetas.size()) throw std::invalid_argument("positions and theta differ in length");
  if (sorted_positions.size() > kMaxLayerSize) throw std::length_error("too many connections in one layer");
  source.resize(sorted_positions.size());
  theta = thetas;
  if (with_momentum_) velocity.assign(theta.size(), 0.0f);
  std::fill(row_start.begin(), row_start.end(), 0u);
  for (size_t k = 0; k < sorted_positions.size(); ++k) {
    const uint64_t p = sorted_positions[k];
    if (p >= positions()) throw std::out_of_range("position out of range");
    source[k] = uint32_t(p % n_in) | (position_is_negative(seed, index, p) ? kSignBit : 0u);
    ++row_start[p / n_in + 1];
  }
  for (uint32_t out = 0; out < n_out; ++out) row_start[out + 1] += row_start[out];
}

std::string SparseLayer::check() const {
  const std::string where = "layer " + std::to_string(index) + ": ";
  if (row_start.size() != size_t(n_out) + 1 || row_start[0] != 0 || row_start[n_out] != theta.size() ||
      source.size() != theta.size())
    return where + "slot arrays are inconsistent";
  if (with_momentum_ && velocity.size() != theta.size()) return where + "momentum buffer has the wrong length";
  for (uint32_t out = 0; out < n_out; ++out) {
    if (row_start[out] > row_start[out + 1]) return where + "row offsets decrease at output " + std::to_string(out);
    for (uint32_t k = row_start[out]; k < row_start[out + 1]; ++k) {
      const uint32_t in = source[k] & kIndexMask;
      if (in >= n_in) return where + "input index out of range at slot " + std::to_string(k);
      if (k > row_start[out] && in <= (source[k - 1] & kIndexMask))
        return where + "duplicate or unsorted connection at output " + std::to_string(out) + ", input " + std::to_string(in);
      if (!(theta[k] >= 0.0f) || !std::isfinite(theta[k]))
        return where + "slot " + std::to_string(k) + " is not active (theta " + std::to_string(theta[k]) + ")";
      if (((source[k] & kSignBit) != 0) != position_is_negative(seed, index, position_of(k, out)))
        return where + "sign of slot " + std::to_string(k) + " differs from its position's fixed sign";
    }
  }
  return "";
}

}  // namespace deepr
