// The per-stage modules of UniDet's cascade ROI heads: FastRCNNConvFCHead (4 x conv3x3+BN+ReLU, fc1 + ReLU) and
// the class-agnostic output layers (723 sigmoid logits - 722 unified classes + background - and 4 deltas).
#pragma once

#include "layers.h"

namespace prismer::experts::obj_detection {

/// `roi_heads.box_head.<k>`: conv1..conv4 (256, 3x3, no bias, BN, ReLU) on the 7x7 pooled features, then fc1
/// (12544 -> 1024) + ReLU.
class BoxHeadImpl : public torch::nn::Module {
 public:
  BoxHeadImpl();
  torch::Tensor forward(const torch::Tensor& pooled);

 private:
  std::vector<ConvNorm> convs_;
  torch::nn::Linear fc1_{nullptr};
};
TORCH_MODULE(BoxHead);

/// `roi_heads.box_predictor.<k>`: cls_score (1024 -> classes + 1) and bbox_pred (1024 -> 4, class-agnostic).
class BoxPredictorImpl : public torch::nn::Module {
 public:
  explicit BoxPredictorImpl(std::int64_t classes = 722);
  /// (class logits [R, classes + 1], box deltas [R, 4]).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

 private:
  torch::nn::Linear cls_score_{nullptr}, bbox_pred_{nullptr};
};
TORCH_MODULE(BoxPredictor);

}  // namespace prismer::experts::obj_detection
