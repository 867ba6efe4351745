#include "fixed_structure.hpp"

namespace deepr {

void FixedStructure::restructure(const std::vector<SparseStore*>& stores, const std::vector<std::vector<uint32_t>>&, uint64_t,
                                 uint64_t, const StepHyper&, std::vector<uint64_t>& activated) {
  activated.assign(stores.size(), 0);
}

}  // namespace deepr
