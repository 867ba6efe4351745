// An optimiser's state kept beside a store's parameters: one float per parameter in each array,
// under the name the optimiser declares (momentum: "velocity"; Adam: "m" and "v"). A sparse
// store moves them with their slots on rewiring; nothing else in the core names them.
#pragma once

#include <string>
#include <vector>

namespace deepr {

struct StateArray {
  std::string name;
  std::vector<float> values;
};

using StateArrays = std::vector<StateArray>;

// Makes `states` hold exactly the arrays `names`, in that order, each of `length` values: an array
// already there keeps its values, a new one starts at zero, one not named is dropped.
inline void keep_states(StateArrays& states, const std::vector<std::string>& names, size_t length) {
  StateArrays kept;
  for (const std::string& name : names) {
    StateArray array{name, {}};
    for (StateArray& old : states)
      if (old.name == name) array.values.swap(old.values);
    array.values.resize(length, 0.0f);
    kept.push_back(std::move(array));
  }
  states.swap(kept);
}

// The array `name`, or null when the store does not keep it.
inline const std::vector<float>* find_state(const StateArrays& states, const std::string& name) {
  for (const StateArray& s : states)
    if (s.name == name) return &s.values;
  return nullptr;
}

inline std::vector<float>* find_state(StateArrays& states, const std::string& name) {
  for (StateArray& s : states)
    if (s.name == name) return &s.values;
  return nullptr;
}

}  // namespace deepr
