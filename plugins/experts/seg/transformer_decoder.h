// Mask2Former's transformer decoder (MultiScaleMaskedTransformerDecoder,
// mask2former/modeling/transformer_decoder/mask2former_transformer_decoder.py): learnable queries, 9 post-norm
// layers of masked cross-attention (round-robin over the 1/32, 1/16, 1/8 features), self-attention and FFN, with a
// class / mask prediction before the first layer and after each. Attention is torch 1.13's
// nn.MultiheadAttention math path. Parameter names as in the official state_dict (`sem_seg_head.predictor.*`).
#pragma once

#include "config.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace prismer::experts::seg {

/// nn.MultiheadAttention's parameters (`in_proj_weight`, `in_proj_bias`, `out_proj.*`) and its forward
/// (q, k, v projected separately, q / sqrt(head_dim), bool mask -> -inf added via baddbmm, softmax, out_proj).
class MultiheadAttentionImpl : public torch::nn::Module {
 public:
  MultiheadAttentionImpl(std::int64_t dim, std::int64_t heads);
  /// query [L, B, E], key/value [S, B, E]; mask [B * heads, L, S] bool (true = not allowed) or undefined.
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                        const torch::Tensor& mask);
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  std::int64_t dim_, heads_;
};
TORCH_MODULE(MultiheadAttention);

/// One prediction of the decoder.
struct MaskPrediction {
  torch::Tensor logits;  ///< [B, Q, classes + 1]
  torch::Tensor masks;   ///< [B, Q, H/4, W/4]
};

/// Every prediction: the final one and the 9 intermediate ones (aux[0] precedes the first layer).
struct DecoderOutput {
  MaskPrediction final;
  std::vector<MaskPrediction> aux;
};

class TransformerDecoderImpl : public torch::nn::Module {
 public:
  explicit TransformerDecoderImpl(const Mask2FormerConfig& cfg);
  /// x: the pixel decoder's multi-scale features (1/32, 1/16, 1/8); mask_features [B, C, H/4, W/4].
  DecoderOutput forward(const std::array<torch::Tensor, 3>& x, const torch::Tensor& mask_features, bool keep_aux);

  torch::nn::ModuleList transformer_self_attention_layers, transformer_cross_attention_layers, transformer_ffn_layers;
  torch::nn::LayerNorm decoder_norm{nullptr};
  torch::nn::Embedding query_feat{nullptr}, query_embed{nullptr}, level_embed{nullptr};
  torch::nn::Linear class_embed{nullptr};
  std::shared_ptr<torch::nn::Module> mask_embed;
  std::array<torch::nn::Linear, 3> mask_embed_layers{torch::nn::Linear{nullptr}, torch::nn::Linear{nullptr},
                                                     torch::nn::Linear{nullptr}};

 private:
  /// forward_prediction_heads: class logits, masks, and the attention mask for the next layer at `size`.
  MaskPrediction predict(const torch::Tensor& output, const torch::Tensor& mask_features,
                         const std::array<std::int64_t, 2>& size, torch::Tensor& attn_mask);
  Mask2FormerConfig cfg_;
};
TORCH_MODULE(TransformerDecoder);

}  // namespace prismer::experts::seg
