#include "deep_r_init.hpp"

#include <cmath>
#include <vector>

#include "random.hpp"
#include "rules/deep_r_structure.hpp"

namespace deepr {

void initialise_deep_r(SparseStore& w) {
  std::vector<uint64_t> positions;
  sample_dormant(structure_of(w), {}, w.budget, RngStream{w.seed, 0, w.id, Purpose::kInitPositions}, positions);
  std::vector<float> theta(w.budget);
  fill_normals(RngStream{w.seed, 0, w.id, Purpose::kInitMagnitudes}, 0, w.budget, theta.data());
  const float scale = 1.0f / std::sqrt(float(w.n_in));
  for (float& t : theta) t = std::fabs(t) * scale;
  w.assign(positions, theta);
}

}  // namespace deepr
