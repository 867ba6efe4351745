// A sparse parameter store that keeps only its active connections: O(K) memory, never O(in x out).
//
// Connection (i -> j) has position p = j * n_in + i. Slots are kept sorted by position, which is
// CSR over the outputs: the slots of output j are [row_start[j], row_start[j + 1]), ordered by
// input index. Per slot there is the input index with the fixed sign in its top bit, theta, and a
// value in each of the optimiser's state arrays; the weight is w = sign * theta. Dormant
// connections have no storage at all: DEEP R re-activates them at theta = 0, so their old value is
// never needed (Bellec et al. 2018, sec. 2, Algorithm 1). Only soft-DEEP R (Algorithm 2), whose
// dormant connections keep a theta, adds one value per position (dormant_theta).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparse_rewire.hpp"
#include "state_arrays.hpp"
#include "store_views.hpp"

namespace deepr {

constexpr uint32_t kMaxLayerSize = 0x7FFFFFFFu;  // inputs, outputs and slots per store

struct SparseStore {
  uint32_t n_in = 0;
  uint32_t n_out = 0;
  uint32_t id = 0;       // stable: keys the store's random streams and the signs of its positions
  uint64_t seed = 0;     // fixes the sign of every position
  uint64_t budget = 0;   // K: the active connections it starts with
  std::vector<uint32_t> row_start;  // n_out + 1 slot offsets
  std::vector<uint32_t> source;     // per slot: input index | kSignBit if negative
  std::vector<float> theta;         // per slot: >= 0 while active
  StateArrays states;               // per slot, each: the optimiser's state (velocity, ...)
  // Empty, or under soft-DEEP R one theta per position (dense: positions()): the theta of every
  // dormant position, which keeps its random walk, and 0 at the active ones (soft_deep_r_structure.hpp).
  std::vector<float> dormant_theta;

  SparseStore() = default;
  SparseStore(uint32_t n_in, uint32_t n_out, uint32_t id, uint64_t seed, uint64_t budget);

  uint64_t positions() const { return uint64_t(n_in) * n_out; }
  uint64_t active() const { return theta.size(); }
  // Whether the connection at `position` is active: it has a slot and its theta is not below
  // zero (a slot whose theta went below zero is dormant from then on, until rewire() drops it).
  bool contains(uint64_t position) const;

  // One regrowth step: drops the slots `dying` (ascending; their theta is below zero) and activates
  // the positions `born` (sorted, distinct, dormant; a dying position may be among them) at
  // theta = 0 and state 0 (rewire_slots, on the store's own buffers; `born_places` as it takes them).
  void rewire(const std::vector<uint32_t>& dying, const std::vector<uint64_t>& born, const uint64_t* born_places = nullptr);

  // Replaces all slots (state 0); positions sorted and distinct. Used by initialisation and import.
  void assign(const std::vector<uint64_t>& sorted_positions, const std::vector<float>& thetas);

  uint64_t position_of(uint64_t slot, uint32_t out) const { return uint64_t(out) * n_in + (source[slot] & kIndexMask); }

  // The kernels' view, its state arrays in the order of `states`.
  SparseView view();

  // Every structural invariant; returns "" or what is wrong. With `signed_theta` (the baseline
  // rules: w = sign * theta is an ordinary signed weight) theta may be below zero.
  std::string check(bool signed_theta = false) const;

 private:
  void resize_slots(size_t size);

  RewireScratch rewire_scratch_;  // rewire()'s working memory, kept so that a step does not allocate
};

}  // namespace deepr
