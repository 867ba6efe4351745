// The activation buffers' allocator: every size, and every regrowth, starts on a cache line.
#include <cstdint>

#include "cache_line_vector.hpp"
#include "check.hpp"

using namespace deepr;

TEST(cache_line_vector_starts_on_a_cache_line) {
  for (const size_t size : {1u, 3u, 16u, 100u, 25088u, 1000003u}) {
    CacheLineVector<float> v(size, 1.5f);
    CHECK(reinterpret_cast<uintptr_t>(v.data()) % kCacheLine == 0);
    v.resize(size * 3 + 5, 2.0f);  // a reallocation keeps the alignment and the values
    CHECK(reinterpret_cast<uintptr_t>(v.data()) % kCacheLine == 0);
    CHECK(v[size - 1] == 1.5f && v[size * 3 + 4] == 2.0f);
  }
}
