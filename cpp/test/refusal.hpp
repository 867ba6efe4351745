// The message a network spec, or a rule for a built network, is refused with: the what() of the
// std::invalid_argument the core throws, or "" when it is accepted.
#pragma once

#include <stdexcept>
#include <string>

#include "network.hpp"

namespace deepr_test {

inline std::string refusal(const deepr::NetworkSpec& spec) {
  try {
    deepr::Network net(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

inline std::string refusal(deepr::Network& net, const deepr::RuleSpec& rule) {
  try {
    net.set_rule(rule);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace deepr_test
