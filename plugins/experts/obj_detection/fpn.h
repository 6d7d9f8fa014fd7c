// UniDet's `build_p67_resnest_fpn_backbone`: ResNeSt bottom-up + detectron2 FPN on res3-res5 (normed 1x1 laterals,
// normed 3x3 outputs, nearest x2 top-down) + LastLevelP6P7_P5 (p6 = conv s2 on p5, p7 = conv s2 on relu(p6)).
#pragma once

#include "resnest.h"

namespace prismer::experts::obj_detection {

/// Backbone outputs: every bottom-up map ("stem", "res2".."res5") and the pyramid "p3".."p7".
using FeatureMap = std::map<std::string, torch::Tensor>;

class FpnBackboneImpl : public torch::nn::Module {
 public:
  explicit FpnBackboneImpl(std::vector<std::int64_t> blocks = {3, 24, 36, 3});
  /// `x` [B, 3, H, W] with H, W multiples of 32.
  FeatureMap forward(const torch::Tensor& x);

 private:
  ResNeSt bottom_up_{nullptr};
  std::vector<ConvNorm> lateral_, output_;  // index 0 = level 3
  torch::nn::Conv2d p6_{nullptr}, p7_{nullptr};
};
TORCH_MODULE(FpnBackbone);

}  // namespace prismer::experts::obj_detection
