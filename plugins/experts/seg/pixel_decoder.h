// Mask2Former's pixel decoder (MSDeformAttnPixelDecoder, mask2former/modeling/pixel_decoder/msdeformattn.py):
// a 6-layer multi-scale deformable-attention encoder over res3..res5 and one FPN level on res2.
// MSDeformAttn is the original's pure-PyTorch path (`ms_deform_attn_core_pytorch`: grid_sample per level), which
// the CUDA kernel matches up to summation order. Parameter names as in the official state_dict
// (`input_proj.*`, `transformer.*`, `mask_features.*`, `adapter_1.*`, `layer_1.*`).
#pragma once

#include "config.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace prismer::experts::seg {

/// PositionEmbeddingSine(num_pos_feats, temperature 1e4, normalize=True, scale 2*pi) of a [B, C, H, W] map with
/// no padding mask: [B, 2 * num_pos_feats, H, W] (y features first).
torch::Tensor sine_position_embedding(const torch::Tensor& x, std::int64_t num_pos_feats);

/// MSDeformAttn (Deformable DETR): per query, heads x levels x points bilinear samples around its reference
/// point, softmax-weighted.
class MSDeformAttnImpl : public torch::nn::Module {
 public:
  MSDeformAttnImpl(std::int64_t d_model, std::int64_t levels, std::int64_t heads, std::int64_t points);
  /// query [N, Lq, C]; reference_points [N, Lq, levels, 2] in [0, 1] (x, y); value_in [N, sum H_l W_l, C];
  /// shapes: the (H_l, W_l) of each level, in the order value_in concatenates them.
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& reference_points,
                        const torch::Tensor& value_in, const std::vector<std::array<std::int64_t, 2>>& shapes);
  torch::nn::Linear sampling_offsets{nullptr}, attention_weights{nullptr}, value_proj{nullptr}, output_proj{nullptr};

 private:
  std::int64_t d_model_, levels_, heads_, points_;
};
TORCH_MODULE(MSDeformAttn);

/// MSDeformAttnTransformerEncoderLayer: post-norm deformable self-attention and a ReLU FFN.
class DeformEncoderLayerImpl : public torch::nn::Module {
 public:
  DeformEncoderLayerImpl(std::int64_t d_model, std::int64_t ffn, std::int64_t levels, std::int64_t heads,
                         std::int64_t points);
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& pos, const torch::Tensor& reference_points,
                        const std::vector<std::array<std::int64_t, 2>>& shapes);
  MSDeformAttn self_attn{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
};
TORCH_MODULE(DeformEncoderLayer);

/// detectron2's Conv2d with a norm submodule (`<name>.weight`, `<name>.norm.*`) and an optional ReLU.
class NormConvImpl : public torch::nn::Module {
 public:
  NormConvImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t groups_norm, bool relu);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  torch::nn::GroupNorm norm{nullptr};

 private:
  std::int64_t padding_;
  bool relu_;
};
TORCH_MODULE(NormConv);

/// What the pixel decoder hands the transformer decoder.
struct PixelDecoderOutput {
  torch::Tensor mask_features;                     ///< [B, mask_dim, H/4, W/4]
  std::array<torch::Tensor, 3> multi_scale_features;  ///< encoder outputs at 1/32, 1/16, 1/8
};

class PixelDecoderImpl : public torch::nn::Module {
 public:
  /// in_channels: the channels of res2..res5.
  PixelDecoderImpl(const Mask2FormerConfig& cfg, const std::array<std::int64_t, 4>& in_channels);
  /// features: res2..res5.
  PixelDecoderOutput forward(const std::array<torch::Tensor, 4>& features);

  torch::nn::ModuleList input_proj;  ///< Sequential(Conv2d 1x1, GroupNorm(32)) for res5, res4, res3
  std::shared_ptr<torch::nn::Module> transformer, encoder;
  torch::Tensor level_embed;         ///< transformer.level_embed [3, C]
  torch::nn::ModuleList layers;      ///< transformer.encoder.layers
  torch::nn::Conv2d mask_features{nullptr};
  NormConv adapter_1{nullptr}, layer_1{nullptr};

 private:
  std::int64_t conv_dim_;
};
TORCH_MODULE(PixelDecoder);

}  // namespace prismer::experts::seg
