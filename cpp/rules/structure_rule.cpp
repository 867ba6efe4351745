#include "structure_rule.hpp"

namespace deepr {

void StructureRule::adopt(const std::vector<SparseStore*>& stores, uint64_t) {
  for (SparseStore* store : stores) std::vector<float>().swap(store->dormant_theta);
}

std::string check_at_most_budget(const std::vector<SparseStore*>& stores) {
  for (const SparseStore* store : stores)
    if (store->active() > store->budget)
      return "store " + std::to_string(store->id) + ": " + std::to_string(store->active()) +
             " active connections, more than its budget " + std::to_string(store->budget);
  return "";
}

}  // namespace deepr
