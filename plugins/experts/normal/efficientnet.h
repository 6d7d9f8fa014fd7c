// tf_efficientnet_b5_ap of rwightman/gen-efficientnet-pytorch, as NLL-AngMF's encoder uses it: the TensorFlow-
// compatible variant (BatchNorm eps 1e-3, TF "SAME" padding, Swish), channel multiplier 1.6, depth multiplier 2.2,
// with the official module names (conv_stem, bn1, blocks.S.I.{conv_pw,bn1,conv_dw,bn2,se.*,conv_pwl,bn3}, conv_head,
// bn2) so the state_dict keys match `encoder.original_model.*` of the released checkpoint.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace prismer::normal {

/// A bias-free (or biased) 2-D convolution with TensorFlow "SAME" padding, as geffnet builds it: stride 1 with an
/// odd kernel is a static symmetric pad of (k-1)/2; anything else (the stride-2 layers) pads dynamically per input
/// size, `pad = max((ceil(i/s)-1)*s + k - i, 0)`, the smaller half first (left/top). Parameters `weight`, `bias`.
class SameConv2dImpl : public torch::nn::Module {
 public:
  SameConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                 std::int64_t groups = 1, bool with_bias = false);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight, bias;

 private:
  std::int64_t kernel_, stride_, groups_;
};
TORCH_MODULE(SameConv2d);

/// Squeeze-and-excitation: mean over H,W -> conv_reduce (1x1, bias) -> Swish -> conv_expand -> sigmoid gate.
class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(std::int64_t channels, std::int64_t reduced);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_reduce{nullptr}, conv_expand{nullptr};
};
TORCH_MODULE(SqueezeExcite);

/// One MBConv block. `expand == 1` is geffnet's DepthwiseSeparableConv (conv_dw, bn1, act, se, conv_pw, bn2; no
/// activation after the point-wise conv); otherwise an InvertedResidual (conv_pw expand, bn1, act, conv_dw, bn2, act,
/// se, conv_pwl, bn3). The residual is added when stride is 1 and in == out. SE reduces to round(in * 0.25).
class MBConvBlockImpl : public torch::nn::Module {
 public:
  MBConvBlockImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t expand,
                  double bn_eps);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool depthwise_separable_, residual_;
  SameConv2d conv_pw{nullptr}, conv_dw{nullptr}, conv_pwl{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  SqueezeExcite se{nullptr};
};
TORCH_MODULE(MBConvBlock);

/// The feature maps NLL-AngMF's decoder reads from `Encoder.forward`'s list (index in that list in brackets).
struct EncoderFeatures {
  torch::Tensor block0;  ///< [4]  blocks.0 output, 24 ch, 1/2
  torch::Tensor block1;  ///< [5]  blocks.1 output, 40 ch, 1/4
  torch::Tensor block2;  ///< [6]  blocks.2 output, 64 ch, 1/8
  torch::Tensor block4;  ///< [8]  blocks.4 output, 176 ch, 1/16
  torch::Tensor head;    ///< [11] conv_head output before its BatchNorm, 2048 ch, 1/32
};

/// The EfficientNet trunk (global_pool / classifier removed, as the Encoder does).
class EfficientNetImpl : public torch::nn::Module {
 public:
  /// tf_efficientnet_b5_ap: channel multiplier 1.6, depth multiplier 2.2, BN eps 1e-3.
  EfficientNetImpl();
  EncoderFeatures forward(const torch::Tensor& x);

 private:
  SameConv2d conv_stem{nullptr}, conv_head{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::ModuleList blocks{nullptr};  // blocks.S (a stage) . I (an MBConvBlock)
};
TORCH_MODULE(EfficientNet);

/// geffnet's make_divisible: round to a multiple of `divisor` (half up), at least `divisor`, never 10% below v.
std::int64_t make_divisible(double v, std::int64_t divisor = 8);

}  // namespace prismer::normal
