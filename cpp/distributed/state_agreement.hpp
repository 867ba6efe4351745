// The check that the processes of a data-parallel run still hold the same network. They should,
// by construction (the same summed gradients, the same random numbers), so a difference means a
// bug or a fault: a process that loaded another checkpoint, memory that went bad, a library that
// rounds differently on one machine. The hashes travel in the step's gradient all-reduce, so the
// check costs no extra round trip, only a pass over the state.
#pragma once

#include <cstdint>
#include <string>

#include "network.hpp"

namespace deepr {

// A 64-bit hash of everything a step reads: the step count and, for every store of every layer,
// its positions, theta, dormant theta and state arrays (sparse) or values and state arrays (dense).
uint64_t state_hash(const Network& net);

// Float slots an all-gather of `ranks` hashes takes in a summing all-reduce: 4 per process, each a
// 16-bit part (exact in float); process `rank` fills its own and leaves the others zero.
constexpr uint32_t kHashSlots = 4;
void pack_state_hash(uint64_t hash, uint32_t rank, uint32_t ranks, float* slots);

// After the sum: "" when every process's hash is rank 0's, else which processes differ.
std::string state_disagreement(const float* slots, uint32_t ranks);

}  // namespace deepr
