// Input stems of the expert encoder (VisionTransformer.conv1 of the reference), one per modality.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace prismer::backbone {

enum class StemKind {
  patch,     ///< rgb: one Conv2d(kernel = stride = patch), parameter `weight`
  dense,     ///< 1-/3-channel maps: bilinear x(16/patch), four stride-2 3x3 conv+BN+ReLU, 1x1 conv
  semantic,  ///< 64-channel maps: bilinear x(4/patch), two stride-2 and two stride-1 conv+BN+ReLU, 1x1 conv
};

/// One stem. Child names follow the reference nn.Sequential indices ("1" conv, "2" BatchNorm, ..., "13" 1x1 conv).
class StemImpl : public torch::nn::Module {
 public:
  StemImpl(StemKind kind, std::int64_t in_channels, std::int64_t width, std::int64_t patch_size);
  /// [B, C, H, W] -> [B, width, h, w].
  torch::Tensor forward(const torch::Tensor& x);
  StemKind kind() const { return kind_; }

 private:
  StemKind kind_;
  std::int64_t patch_;
  torch::Tensor weight_;  // patch stem only
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> norms_;
};
TORCH_MODULE(Stem);

}  // namespace prismer::backbone
