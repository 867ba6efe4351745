// The finite-difference check of a backward pass: the central difference of a loss in one
// parameter, which is left as it was.
#pragma once

namespace deepr_test {

// (loss() at value + eps - loss() at value - eps) / (2 eps).
template <class Loss>
double central_difference(float& value, double eps, const Loss& loss) {
  const float kept = value;
  value = float(kept + eps);
  const double up = loss();
  value = float(kept - eps);
  const double down = loss();
  value = kept;
  return (up - down) / (2 * eps);
}

}  // namespace deepr_test
