// A minimal test harness for the core: TEST registers a case, CHECK records a failure and goes on.
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace deepr_test {

struct Case {
  const char* name;
  std::function<void()> run;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int count = 0;
  return count;
}

struct Register {
  Register(const char* name, std::function<void()> run) { registry().push_back({name, std::move(run)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace deepr_test

#define DEEPR_CONCAT2(a, b) a##b
#define DEEPR_CONCAT(a, b) DEEPR_CONCAT2(a, b)
#define TEST(name)                                                                           \
  static void name();                                                                        \
  static deepr_test::Register DEEPR_CONCAT(register_, name)(#name, name);                   \
  static void name()

#define CHECK(cond)                                                                          \
  do {                                                                                       \
    if (!(cond)) deepr_test::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed");            \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                \
  do {                                                                                       \
    const double va_ = (a), vb_ = (b);                                                       \
    if (!(std::abs(va_ - vb_) <= (tol))) {                                                   \
      std::ostringstream os_;                                                                \
      os_.precision(10);                                                                     \
      os_ << #a " = " << va_ << ", " #b " = " << vb_ << ", tolerance " << (tol);             \
      deepr_test::fail(__FILE__, __LINE__, os_.str());                                       \
    }                                                                                        \
  } while (0)
