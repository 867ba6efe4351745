#include "gradient_clipping.hpp"

#include <cmath>

namespace deepr {

double global_norm(const std::vector<LayerGradients>& gradients) {
  double sum = 0;
  for (const LayerGradients& layer : gradients)
    for (const std::vector<float>& store : layer.stores)
      for (const float g : store) sum += double(g) * double(g);
  return std::sqrt(sum);
}

double clip_by_global_norm(std::vector<LayerGradients>& gradients, float max_norm) {
  const double norm = global_norm(gradients);
  if (!(norm > max_norm)) return norm;  // a NaN norm is left for the update to report as divergence
  const float scale = float(double(max_norm) / norm);
  for (LayerGradients& layer : gradients)
    for (std::vector<float>& store : layer.stores)
      for (float& g : store) g *= scale;
  return norm;
}

}  // namespace deepr
