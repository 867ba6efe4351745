#include "random.hpp"

#include "store_views.hpp"

namespace deepr {

// Whole batches go straight to out; the rest, in tail batches, and a batch cut by an end of the
// range goes through a buffer.
// Compiled once per dispatch target and called, not inlined: the generator is large, and a call
// costs little next to the hundreds of normals a caller asks for.
DEEPR_DISPATCH
void fill_normals(const RngStream& stream, uint64_t first, uint64_t count, float* out) {
  uint64_t block = first / 4, skip = first % 4;
  float buffer[4 * kBatchBlocks];
  while (count > 0) {
    const bool tail = skip + count < 4 * kBatchBlocks;
    const uint64_t batch = tail ? 4 * kTailBlocks : 4 * kBatchBlocks;  // normals
    const bool whole = skip == 0 && count >= batch;
    float* to = whole ? out : buffer;
    if (tail) normal_batch<kTailBlocks>(stream, uint32_t(block), to);
    else normal_batch<kBatchBlocks>(stream, uint32_t(block), to);
    const uint64_t take = std::min(batch - skip, count);
    if (!whole) std::copy(buffer + skip, buffer + skip + take, out);
    out += take;
    count -= take;
    block += batch / 4;
    skip = 0;
  }
}

DEEPR_DISPATCH
void fill_block_draws(const RngStream& stream, uint32_t first, uint32_t count, uint64_t* out) {
  typedef BatchLanes<kTailBlocks>::Blocks Blocks;
  for (uint32_t done = 0; done < count; done += kTailBlocks, first += kTailBlocks) {  // wraps like RngStream::block
    Blocks w[4];
    philox_batch<kTailBlocks>(stream, first, w);
    for (uint32_t i = 0; i < std::min(kTailBlocks, count - done); ++i) {
      out[2 * (done + i)] = (w[0][i] << 32) | uint32_t(w[1][i]);
      out[2 * (done + i) + 1] = (w[2][i] << 32) | uint32_t(w[3][i]);
    }
  }
}

DEEPR_DISPATCH
void position_sign_bits(uint64_t seed, uint32_t store, const uint64_t* positions, uint32_t count, uint32_t* sign_bits) {
  typedef BatchLanes<kTailBlocks>::Blocks Blocks;
  for (uint32_t done = 0; done < count; done += kTailBlocks) {
    const uint32_t n = std::min(kTailBlocks, count - done);
    uint64_t batch[kTailBlocks] = {};
    std::copy(positions + done, positions + done + n, batch);
    Blocks c[4];
    std::memcpy(&c[0], batch, sizeof batch);
    c[1] = c[0] >> 32;  // the counter of position p: {p low, p high, 0, store << 8 | kSign}
    c[2] = Blocks{};
    c[3] = Blocks{} + ((store << 8) | uint32_t(Purpose::kSign));
    philox_lanes<kTailBlocks>(c, seed);
    for (uint32_t i = 0; i < n; ++i) sign_bits[done + i] = (c[0][i] & 1u) ? kSignBit : 0u;
  }
}

}  // namespace deepr
