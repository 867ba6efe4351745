// Test data from a counter: splitmix64 of n, so every platform and build draws the same values.
#pragma once

#include <cstdint>

namespace deepr_test {

inline uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A value in [-1, 1) from a counter, with the 53 bits of the hash that a double holds.
inline double uniform_double(uint64_t n) { return double(mix(n) >> 11) / 4503599627370496.0 - 1.0; }

// The same value rounded to float.
inline float uniform(uint64_t n) { return float(uniform_double(n)); }

}  // namespace deepr_test
