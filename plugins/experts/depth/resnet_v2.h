// The BiT ResNetV2 backbone of timm 0.6.13's `vit_base_r50_s16_384` hybrid (layers 3/4/9, preact=False,
// stem 'same'): weight-standardised convolutions with TensorFlow "SAME" padding, GroupNorm(32) + ReLU, and
// v1.5 bottlenecks. Module and parameter names are timm's (`stem.conv`, `stages.N.blocks.M.conv1`, ...).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace prismer::experts::depth {

/// TensorFlow "SAME" padding along one axis: max((ceil(size/stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0).
std::int64_t same_padding(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t dilation = 1);

/// timm `pad_same`: pads the last two axes for a kernel x kernel / stride window, pad // 2 before and the rest after.
torch::Tensor pad_same(const torch::Tensor& x, std::int64_t kernel, std::int64_t stride, double value = 0.0);

/// timm StdConv2dSame (no bias): each output channel's weight standardised as
/// `batch_norm(w.reshape(1, out, -1), training=True, eps)` = (w - mean) / sqrt(var_biased + eps), then a convolution
/// with symmetric padding when stride 1 and the kernel is odd, else dynamic TF-SAME padding.
class StdConv2dSameImpl : public torch::nn::Module {
 public:
  StdConv2dSameImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1, double eps = 1e-8);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  std::int64_t out_, kernel_, stride_;
  double eps_;
  bool dynamic_;  // TF-SAME padding computed from the input size (stride > 1 or an even kernel)
};
TORCH_MODULE(StdConv2dSame);

/// timm GroupNormAct: GroupNorm(32 groups, eps 1e-5, affine) then ReLU unless `act` is false.
class GroupNormActImpl : public torch::nn::Module {
 public:
  explicit GroupNormActImpl(std::int64_t channels, bool act = true, std::int64_t groups = 32, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  std::int64_t groups_;
  double eps_;
  bool act_;
};
TORCH_MODULE(GroupNormAct);

/// timm DownsampleConv (preact=False): `conv` (1x1, stride) then `norm` without activation.
class DownsampleConvImpl : public torch::nn::Module {
 public:
  DownsampleConvImpl(std::int64_t in, std::int64_t out, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  StdConv2dSame conv{nullptr};
  GroupNormAct norm{nullptr};
};
TORCH_MODULE(DownsampleConv);

/// timm Bottleneck (non-pre-activation, V1.5: the stride sits on the 3x3): relu(norm3(conv3(...)) + shortcut).
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(std::int64_t in, std::int64_t out, std::int64_t stride, bool downsample);
  torch::Tensor forward(const torch::Tensor& x);
  DownsampleConv downsample{nullptr};
  StdConv2dSame conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  GroupNormAct norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
};
TORCH_MODULE(Bottleneck);

/// timm ResNetStage: `blocks.0..depth-1`, the first one strided and with a projection shortcut.
class ResNetStageImpl : public torch::nn::Module {
 public:
  ResNetStageImpl(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t depth);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(ResNetStage);

/// ResNetV2 without head or final norm: `stem.{conv,norm}` (7x7/2, SAME) + SAME max-pool 3x3/2 (pads with -inf),
/// then `stages.{0,1,2}` (256/512/1024 channels, strides 1/2/2: 1/16 of the input in total).
class ResNetV2Impl : public torch::nn::Module {
 public:
  explicit ResNetV2Impl(std::vector<std::int64_t> layers = {3, 4, 9},
                        std::vector<std::int64_t> channels = {256, 512, 1024}, std::int64_t stem_channels = 64);
  /// Every stage's output, in order (DPT hooks the first two; the last feeds the patch projection).
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  std::int64_t out_channels() const { return out_channels_; }

  std::shared_ptr<torch::nn::Module> stem;
  StdConv2dSame stem_conv{nullptr};
  GroupNormAct stem_norm{nullptr};
  torch::nn::ModuleList stages{nullptr};

 private:
  std::int64_t out_channels_;
};
TORCH_MODULE(ResNetV2);

}  // namespace prismer::experts::depth
