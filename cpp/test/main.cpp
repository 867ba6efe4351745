// Runs every registered core test and prints one closing line: "N passed, N failed".
#include <cstdio>
#include <exception>

#include "check.hpp"

int main() {
  int passed = 0, failed = 0;
  for (const deepr_test::Case& c : deepr_test::registry()) {
    const int before = deepr_test::failures();
    try {
      c.run();
    } catch (const std::exception& e) {
      deepr_test::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    }
    const bool ok = deepr_test::failures() == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c.name);
    (ok ? passed : failed)++;
  }
  std::printf("core: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
