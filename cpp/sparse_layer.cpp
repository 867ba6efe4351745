#include "sparse_layer.hpp"

#include <algorithm>
#include <cmath>
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

uint64_t SparseLayer::remove_dormant() {
  const bool momentum = has_momentum();
  // Slots before the first dormant one keep their places: start compacting at its row.
  const auto first_dormant = std::find_if(theta.begin(), theta.end(), [](float t) { return !(t >= 0.0f); });
  if (first_dormant == theta.end()) return 0;
  const uint32_t first_row =
      uint32_t(std::upper_bound(row_start.begin(), row_start.end(), uint32_t(first_dormant - theta.begin())) - row_start.begin() - 1);
  uint32_t write = row_start[first_row];
  uint32_t read = write;
  for (uint32_t out = first_row; out < n_out; ++out) {
    const uint32_t end = row_start[out + 1];
    row_start[out] = write;
    for (; read < end; ++read) {
      if (!(theta[read] >= 0.0f)) continue;
      source[write] = source[read];
      theta[write] = theta[read];
      if (momentum) velocity[write] = velocity[read];
      ++write;
    }
  }
  const uint64_t removed = theta.size() - write;
  row_start[n_out] = write;
  source.resize(write);
  theta.resize(write);
  if (momentum) velocity.resize(write);
  return removed;
}

void SparseLayer::activate(const std::vector<uint64_t>& sorted_positions) {
  if (sorted_positions.empty()) return;
  const bool momentum = has_momentum();
  const uint64_t old_size = theta.size();
  const uint64_t new_size = old_size + sorted_positions.size();
  if (new_size > kMaxLayerSize) throw std::length_error("too many connections in one layer");
  source.resize(new_size);
  theta.resize(new_size);
  if (momentum) velocity.resize(new_size);

  // Walk the rows from the back; `pending` new connections still belong to rows <= out, so the
  // old slots of row `out` move up by exactly `pending` places. Rows before the first new
  // connection do not move at all.
  size_t next = sorted_positions.size();  // new positions [0, next) are not placed yet
  for (uint32_t out = n_out; out-- > 0 && next > 0;) {
    const uint64_t row_first = uint64_t(out) * n_in;
    size_t first_new = next;
    while (first_new > 0 && sorted_positions[first_new - 1] >= row_first) --first_new;
    const uint32_t old_begin = row_start[out], old_end = row_start[out + 1];
    int64_t read = int64_t(old_end) - 1;
    uint64_t write = old_end + next;  // one past the row's new last slot
    row_start[out + 1] = uint32_t(write);
    for (size_t n = next; n > first_new;) {
      const uint32_t in = uint32_t(sorted_positions[n - 1] - row_first);
      if (read >= int64_t(old_begin) && (source[read] & kIndexMask) > in) {
        --write;
        source[write] = source[read];
        theta[write] = theta[read];
        if (momentum) velocity[write] = velocity[read];
        --read;
      } else {
        --write;
        --n;
        source[write] = in | (position_is_negative(seed, index, sorted_positions[n]) ? kSignBit : 0u);
        theta[write] = 0.0f;
        if (momentum) velocity[write] = 0.0f;
      }
    }
    for (; read >= int64_t(old_begin); --read) {  // the rest of the old row shifts by (next - placed)
      --write;
      source[write] = source[read];
      theta[write] = theta[read];
      if (momentum) velocity[write] = velocity[read];
    }
    next = first_new;
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
