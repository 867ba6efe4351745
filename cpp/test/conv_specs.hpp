// Layer specs of the convolution kinds as the tests build them (the fields of layer_registry.hpp).
#pragma once

#include <cstdint>

#include "conv_geometry.hpp"
#include "layer_registry.hpp"

namespace deepr_test {

inline deepr::LayerSpec conv_spec(const char* kind, const deepr::ConvGeometry& g, bool bias, uint64_t budget = 0) {
  deepr::LayerSpec spec{kind,
                        {{"in_channels", g.in_channels},
                         {"height", g.height},
                         {"width", g.width},
                         {"out_channels", g.out_channels},
                         {"kernel_height", g.kernel_height},
                         {"kernel_width", g.kernel_width},
                         {"stride", g.stride},
                         {"padding", g.padding}},
                        {{"bias", bias}}};
  if (budget) spec.numbers["budget"] = double(budget);
  return spec;
}

inline deepr::LayerSpec sparse_conv_spec(const deepr::ConvGeometry& g, uint64_t budget, bool bias) {
  return conv_spec("sparse_conv2d", g, bias, budget);
}

inline deepr::LayerSpec dense_conv_spec(const deepr::ConvGeometry& g, bool bias) { return conv_spec("dense_conv2d", g, bias); }

inline deepr::LayerSpec max_pool_spec(uint32_t channels, uint32_t height, uint32_t width, uint32_t kernel, uint32_t stride) {
  return {"max_pool2d",
          {{"channels", channels},
           {"height", height},
           {"width", width},
           {"kernel_height", kernel},
           {"kernel_width", kernel},
           {"stride", stride}},
          {}};
}

}  // namespace deepr_test
