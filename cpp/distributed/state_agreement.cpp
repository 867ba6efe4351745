#include "distributed/state_agreement.hpp"

#include <cstring>
#include <vector>

namespace deepr {

namespace {

// Word-wise FNV-1a: a fast mix of the state's 32-bit words, not a cryptographic hash.
class Hasher {
 public:
  void add(uint64_t value) {
    add_word(uint32_t(value));
    add_word(uint32_t(value >> 32));
  }
  template <typename T>
  void add(const std::vector<T>& values) {
    static_assert(sizeof(T) == 4, "hashes 32-bit words");
    add(uint64_t(values.size()));
    for (const T& v : values) {
      uint32_t word;
      std::memcpy(&word, &v, 4);
      add_word(word);
    }
  }
  void add(const StateArrays& states) {
    for (const StateArray& s : states) add(s.values);
  }
  uint64_t value() const { return hash_; }

 private:
  void add_word(uint32_t word) { hash_ = (hash_ ^ word) * 0x100000001b3ull; }
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

uint64_t unpack_hash(const float* slots) {
  uint64_t hash = 0;
  for (uint32_t p = 0; p < kHashSlots; ++p) hash |= uint64_t(slots[p]) << (16 * p);
  return hash;
}

}  // namespace

uint64_t state_hash(const Network& net) {
  Hasher h;
  h.add(net.step());
  for (const auto& layer : net.layers())
    for (const StoreRef& s : layer->stores()) {
      if (s.sparse) {
        h.add(s.sparse->row_start);
        h.add(s.sparse->source);
        h.add(s.sparse->theta);
        h.add(s.sparse->dormant_theta);
        h.add(s.sparse->states);
      } else {
        h.add(s.dense->value);
        h.add(s.dense->states);
      }
    }
  return h.value();
}

void pack_state_hash(uint64_t hash, uint32_t rank, uint32_t ranks, float* slots) {
  std::memset(slots, 0, sizeof(float) * kHashSlots * ranks);
  for (uint32_t p = 0; p < kHashSlots; ++p) slots[rank * kHashSlots + p] = float((hash >> (16 * p)) & 0xffff);
}

std::string state_disagreement(const float* slots, uint32_t ranks) {
  std::string differing;
  const uint64_t first = unpack_hash(slots);
  for (uint32_t r = 1; r < ranks; ++r)
    if (unpack_hash(slots + r * kHashSlots) != first) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (differing.empty()) return "";
  return "the state of process" + std::string(differing.find(',') == std::string::npos ? " " : "es ") + differing +
         " differs from process 0's";
}

}  // namespace deepr
