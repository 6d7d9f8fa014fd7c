// NLL-AngMF (Bae et al., baegwangbin/surface_normal_uncertainty) as Prismer's normal expert runs it: NNET with the
// 'BN' decoder, in test mode (the uncertainty-guided point sampling is a training-time device; at inference the
// refinement MLPs run on every pixel, as the original's mode='test' does). Module names follow the original, so the
// state_dict keys are those of `scannet.pt` after its 'module.' prefix is removed (936 tensors).
#pragma once

#include "efficientnet.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace prismer::normal {

/// Named intermediate tensors of one forward, keyed as in the reference fixtures: "encoder.features.<i>"
/// (i in 4, 5, 6, 8, 11), "decoder.conv2", "decoder.up1".."decoder.up4", "out.res8".."out.res1".
using Trace = std::map<std::string, torch::Tensor>;

/// UpSampleBN: bilinear (align_corners) upsampling to the skip's size, concatenation, then `_net` =
/// Conv3x3 (bias) -> BatchNorm -> LeakyReLU(0.01) -> Conv3x3 -> BatchNorm -> LeakyReLU.
class UpSampleBNImpl : public torch::nn::Module {
 public:
  UpSampleBNImpl(std::int64_t skip_input, std::int64_t output_features);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& concat_with);

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(UpSampleBN);

/// The decoder: conv2 (1x1) on the 1/32 map, four UpSampleBN stages to 1/2, a 3x3 head at 1/8 (out_conv_res8) and
/// three per-pixel MLPs (Conv1d k=1: out_conv_res4/res2/res1) refining the upsampled prediction at 1/4, 1/2, 1/1.
class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl();
  /// [res8, res4, res2, res1]: 4 channels each (unit normal xyz, kappa = elu + 1.01).
  std::vector<torch::Tensor> forward(const EncoderFeatures& f, Trace* trace = nullptr);

 private:
  torch::nn::Conv2d conv2{nullptr}, out_conv_res8{nullptr};
  UpSampleBN up1{nullptr}, up2{nullptr}, up3{nullptr}, up4{nullptr};
  torch::nn::Sequential out_conv_res4{nullptr}, out_conv_res2{nullptr}, out_conv_res1{nullptr};
};
TORCH_MODULE(Decoder);

/// `encoder.original_model` (the EfficientNet) and `decoder`.
class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl();
  EncoderFeatures forward(const torch::Tensor& x) { return original_model->forward(x); }

 private:
  EfficientNet original_model{nullptr};
};
TORCH_MODULE(Encoder);

/// The whole network. Call eval() before inference (BatchNorm uses its running statistics, as the original does).
class NNetImpl : public torch::nn::Module {
 public:
  NNetImpl();
  /// Input: ImageNet-normalised RGB [B, 3, H, W]. Returns [res8, res4, res2, res1] (1/8 .. full resolution);
  /// with `trace`, also records the named intermediates.
  std::vector<torch::Tensor> forward(const torch::Tensor& x, Trace* trace = nullptr);

 private:
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
};
TORCH_MODULE(NNet);

/// The original's norm_normalize: xyz / (|xyz| + 1e-10), kappa = elu(kappa) + 1 + 0.01, over channel dim 1.
torch::Tensor norm_normalize(const torch::Tensor& out);

}  // namespace prismer::normal
