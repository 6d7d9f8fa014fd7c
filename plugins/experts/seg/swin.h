// The Swin Transformer backbone of Mask2Former (D2SwinTransformer, mask2former/modeling/backbone/swin.py):
// patch embedding, shifted-window attention with relative position bias, patch merging, one LayerNorm per
// stage output. Parameter names are the official state_dict's (`patch_embed.*`, `layers.N.blocks.M.*`,
// `layers.N.downsample.*`, `normN.*`).
#pragma once

#include "config.h"

#include <torch/torch.h>

#include <array>

namespace prismer::experts::seg {

/// WindowAttention: qkv, q * head_dim^-0.5, + relative position bias (+ shift mask), softmax, proj.
class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(std::int64_t dim, std::int64_t window, std::int64_t heads);
  /// x: [windows * B, window^2, C]; mask: [windows, window^2, window^2] (0 / -100) or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

  torch::Tensor relative_position_bias_table;  ///< [(2w-1)^2, heads]
  /// Computed here, not loaded (the file's copy is checked against it by the loader).
  torch::Tensor relative_position_index;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  std::int64_t window_, heads_;
  double scale_;
};
TORCH_MODULE(WindowAttention);

/// SwinTransformerBlock: LN, zero-pad to whole windows, cyclic shift, window attention, reverse, crop, residual;
/// LN, MLP (exact GELU), residual.
class SwinBlockImpl : public torch::nn::Module {
 public:
  SwinBlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t window, std::int64_t shift, double mlp_ratio);
  /// x: [B, H*W, C].
  torch::Tensor forward(const torch::Tensor& x, std::int64_t h, std::int64_t w, const torch::Tensor& shift_mask);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  std::shared_ptr<torch::nn::Module> mlp;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};  ///< mlp.fc1, mlp.fc2

 private:
  std::int64_t window_, shift_;
};
TORCH_MODULE(SwinBlock);

/// PatchMerging: pad odd sizes, concatenate the 2x2 neighbours (x0, x1, x2, x3 order), LN(4C), Linear(4C -> 2C).
class PatchMergingImpl : public torch::nn::Module {
 public:
  explicit PatchMergingImpl(std::int64_t dim);
  torch::Tensor forward(const torch::Tensor& x, std::int64_t h, std::int64_t w);
  torch::nn::Linear reduction{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchMerging);

/// BasicLayer: one stage of blocks (even: plain windows, odd: shifted by window/2) and its downsampling.
class SwinStageImpl : public torch::nn::Module {
 public:
  SwinStageImpl(std::int64_t dim, std::int64_t depth, std::int64_t heads, std::int64_t window, double mlp_ratio,
                bool downsample);
  torch::nn::ModuleList blocks;
  PatchMerging downsample{nullptr};  ///< absent in the last stage
  std::int64_t window;
};
TORCH_MODULE(SwinStage);

/// The backbone. forward() gives res2..res5 ([B, C_i, H/4/2^i, W/4/2^i], after norm0..norm3).
class SwinTransformerImpl : public torch::nn::Module {
 public:
  explicit SwinTransformerImpl(const SwinConfig& cfg = {});
  std::array<torch::Tensor, 4> forward(const torch::Tensor& x);

  std::shared_ptr<torch::nn::Module> patch_embed;
  torch::nn::Conv2d patch_proj{nullptr};     ///< patch_embed.proj
  torch::nn::LayerNorm patch_norm{nullptr};  ///< patch_embed.norm
  torch::nn::ModuleList layers;
  std::array<torch::nn::LayerNorm, 4> norms{torch::nn::LayerNorm{nullptr}, torch::nn::LayerNorm{nullptr},
                                            torch::nn::LayerNorm{nullptr}, torch::nn::LayerNorm{nullptr}};

 private:
  SwinConfig cfg_;
};
TORCH_MODULE(SwinTransformer);

/// The relative position index of a (window x window) window, as WindowAttention builds its buffer.
torch::Tensor relative_position_index(std::int64_t window);

}  // namespace prismer::experts::seg
