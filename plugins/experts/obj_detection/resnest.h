// ResNeSt-200 (UniDet's `build_resnest_backbone`, radix 2): deep stem, split-attention bottlenecks with avd and
// avg-down shortcuts; state_dict names as `backbone.bottom_up.*` of the official checkpoint.
#pragma once

#include "layers.h"

#include <map>
#include <string>

namespace prismer::experts::obj_detection {

/// SplAtConv2d (radix 2, cardinality 1): a grouped 3x3 conv into two splits, then attention over the splits from
/// their pooled sum (fc1 -> bn1 -> ReLU -> fc2 -> softmax over the radix).
class SplitAttentionConvImpl : public torch::nn::Module {
 public:
  SplitAttentionConvImpl(std::int64_t channels, NormKind norm, std::int64_t radix = 2);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::int64_t channels_, radix_;
  ConvNorm conv_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  Norm bn0_{nullptr}, bn1_{nullptr};
};
TORCH_MODULE(SplitAttentionConv);

/// The ResNeSt bottleneck: conv1 1x1 -> split-attention 3x3 (stride 1) -> AvgPool2d(3, s, 1) when strided ->
/// conv3 1x1; shortcut = AvgPool2d(s, s, ceil_mode, count_include_pad=False) + 1x1 conv when the width changes.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(std::int64_t in, std::int64_t out, std::int64_t group_width, std::int64_t stride, NormKind norm);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::int64_t stride_;
  ConvNorm conv1_{nullptr}, conv3_{nullptr}, shortcut_{nullptr};
  SplitAttentionConv conv2_{nullptr};
};
TORCH_MODULE(Bottleneck);

/// The deep stem: three 3x3 convs (3->64 s2, 64->64, 64->128), each with a frozen norm and ReLU, then a 3x3/s2 max pool.
class DeepStemImpl : public torch::nn::Module {
 public:
  DeepStemImpl();
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvNorm conv1_1_{nullptr}, conv1_2_{nullptr}, conv1_3_{nullptr};
};
TORCH_MODULE(DeepStem);

/// ResNeSt bottom-up network; forward returns {"stem", "res2", ..., "res5"} (stride 4, 4, 8, 16, 32).
class ResNeStImpl : public torch::nn::Module {
 public:
  /// `blocks`: blocks per stage (ResNeSt-200: {3, 24, 36, 3}).
  explicit ResNeStImpl(std::vector<std::int64_t> blocks = {3, 24, 36, 3});
  std::map<std::string, torch::Tensor> forward(const torch::Tensor& x);

 private:
  DeepStem stem_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
};
TORCH_MODULE(ResNeSt);

}  // namespace prismer::experts::obj_detection
