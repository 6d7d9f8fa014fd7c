// timm 0.6.13 `vit_base_r50_s16_384` (R50+ViT-B/16 hybrid) as DPT drives it: the ResNetV2 backbone feeds a 1x1
// patch projection, the 24x24 position grid is resized bilinearly to the input's (DPT's `forward_flex`), and the
// forward returns the activations DPT hooks instead of a classification. Parameter names are timm's
// (`cls_token`, `pos_embed`, `patch_embed.backbone.*`, `patch_embed.proj`, `blocks.N.*`, `norm`, `head`).
#pragma once

#include "resnet_v2.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace prismer::experts::depth {

/// Batched matrix product [..., n, k] x [..., k, m]. On the CPU each matrix goes to BLAS through mm: LibTorch 1.13's
/// CPU bmm without MKL (Debian's build) falls back to a much slower generic kernel for attention shapes.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b);

/// timm Attention: packed `qkv` (with bias), softmax((q k^T) * head_dim^-0.5) v, `proj`.
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(std::int64_t dim, std::int64_t heads);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  std::int64_t heads_;
  double scale_;
};
TORCH_MODULE(Attention);

/// timm Mlp: `fc1` -> exact GELU -> `fc2`.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(std::int64_t dim, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

/// timm Block (pre-norm, LayerNorm eps 1e-6, no LayerScale): x + attn(norm1(x)), then x + mlp(norm2(x)).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t mlp_hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(Block);

/// The sizes of the hybrid ViT; the defaults are vit_base_r50_s16_384.
struct VitHybridConfig {
  std::vector<std::int64_t> resnet_layers = {3, 4, 9};
  std::int64_t width = 768;
  std::int64_t depth = 12;
  std::int64_t heads = 12;
  std::int64_t mlp_hidden = 3072;
  std::int64_t pretrain_grid = 24;  ///< pos_embed holds 1 + grid^2 rows (384 / 16)
  std::int64_t num_classes = 1000;  ///< `head` is in the official file although DPT never uses it
  std::int64_t patch = 16;          ///< total stride of the backbone
};

/// What DPT reads from the ViT: the ResNet stage outputs and the tokens after two chosen blocks.
struct VitHybridFeatures {
  std::vector<torch::Tensor> stages;  ///< ResNetV2 stage outputs (256ch 1/4, 512ch 1/8, 1024ch 1/16)
  std::vector<torch::Tensor> tokens;  ///< [B, 1 + h*w, width] after each requested block (cls token first)
};

class VitHybridImpl : public torch::nn::Module {
 public:
  explicit VitHybridImpl(const VitHybridConfig& config = {});
  /// DPT's forward_flex for an input [B, 3, H, W] (H, W multiples of the patch): pos_embed's grid resized with
  /// bilinear interpolation (align_corners=False) to (H/16, W/16); tokens = [cls, proj(backbone(x))] + pos; the
  /// tokens after blocks `token_blocks` (ascending) are returned; later blocks and the final `norm` are skipped
  /// because DPT never reads them.
  VitHybridFeatures forward(const torch::Tensor& x, const std::vector<std::int64_t>& token_blocks);
  const VitHybridConfig& config() const { return config_; }

  torch::Tensor cls_token, pos_embed;
  std::shared_ptr<torch::nn::Module> patch_embed;
  ResNetV2 backbone{nullptr};  ///< patch_embed.backbone
  torch::nn::Conv2d proj{nullptr};  ///< patch_embed.proj
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear head{nullptr};

 private:
  VitHybridConfig config_;
};
TORCH_MODULE(VitHybrid);

}  // namespace prismer::experts::depth
