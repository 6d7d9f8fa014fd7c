// The RoBERTa text decoder of Prismer (model/modules/roberta.py RobertaForCausalLMModified): embeddings with
// fairseq position ids, layers of self-attention + cross-attention + adaptor + MLP, a final layer without
// cross-attention, and the LM head tied to the word embeddings.
#pragma once

#include "config.h"
#include "kv_cache.h"
#include "layers.h"

namespace prismer::backbone {

class RobertaEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit RobertaEmbeddingsImpl(const RobertaConfig& c);
  /// ids [B, T]; `past_nonpad` [B] (undefined: none) is the count of non-pad ids before these.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& past_nonpad);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  LayerNorm32 LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::Tensor position_ids;

 private:
  std::int64_t pad_;
};
TORCH_MODULE(RobertaEmbeddings);

class RobertaSelfAttentionImpl : public torch::nn::Module {
 public:
  RobertaSelfAttentionImpl(const RobertaConfig& c, bool cross);
  /// [B, T, *] -> [B, H, T, hd]
  torch::Tensor split_heads(const torch::Tensor& x) const;
  /// q_states [B, n, D], k/v [B|1, H, T, hd], mask additive [B, 1, n, T] or undefined.
  torch::Tensor attend(const torch::Tensor& q_states, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Dropout dropout{nullptr};

 private:
  std::int64_t heads_, head_dim_;
};
TORCH_MODULE(RobertaSelfAttention);

/// dense -> dropout -> LayerNorm(x + residual) (RobertaSelfOutput / RobertaOutput).
class RobertaOutputImpl : public torch::nn::Module {
 public:
  RobertaOutputImpl(std::int64_t in, std::int64_t out, double eps, double dropout_p);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  LayerNorm32 LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(RobertaOutput);

class RobertaAttentionImpl : public torch::nn::Module {
 public:
  RobertaAttentionImpl(const RobertaConfig& c, bool cross);
  /// Self-attention: K/V from `h` (appended to `*k_cache`/`*v_cache` when given). Cross-attention: K/V from
  /// `memory`, or taken from / stored into the cache slots.
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& mask, const torch::Tensor& memory,
                        torch::Tensor* k_cache, torch::Tensor* v_cache);
  RobertaSelfAttention self{nullptr};
  RobertaOutput output{nullptr};

 private:
  bool cross_;
};
TORCH_MODULE(RobertaAttention);

class RobertaLayerImpl : public torch::nn::Module {
 public:
  explicit RobertaLayerImpl(const RobertaConfig& c);
  torch::Tensor mlp(const torch::Tensor& h);  // output(intermediate(h), h)
  RobertaAttention attention{nullptr};
  torch::nn::Linear intermediate_dense{nullptr};
  RobertaOutput output{nullptr};
};
TORCH_MODULE(RobertaLayer);

/// `encoder.layer.<i>`: "0" RobertaLayer, "1" cross-attention, "2" Adaptor(norm_late).
class DecoderBlockImpl : public torch::nn::Module {
 public:
  explicit DecoderBlockImpl(const RobertaConfig& c);
  RobertaLayer layer{nullptr};
  RobertaAttention cross{nullptr};
  Adaptor adaptor{nullptr};
};
TORCH_MODULE(DecoderBlock);

class RobertaLMHeadImpl : public torch::nn::Module {
 public:
  RobertaLMHeadImpl(const RobertaConfig& c, const torch::Tensor& tied_weight);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
  LayerNorm32 layer_norm{nullptr};
  torch::Tensor weight, bias;  // decoder.weight (tied to word embeddings), decoder.bias == bias
};
TORCH_MODULE(RobertaLMHead);

class TextDecoderImpl : public torch::nn::Module {
 public:
  explicit TextDecoderImpl(const RobertaConfig& c);
  /// Logits [B, n, V] for `ids` [B, n]. `mask` [B, past + n] (1 = token, 0 = pad) covers the cached positions
  /// too. `memory` [B|1, L, Dv]. With `cache`, ids are the new positions only and the cache is extended.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                        KVCache* cache = nullptr);
  const RobertaConfig& config() const { return cfg_; }

  RobertaEmbeddings embeddings{nullptr};
  std::vector<DecoderBlock> blocks;
  RobertaLayer output_layer{nullptr};
  RobertaLMHead lm_head{nullptr};

 private:
  RobertaConfig cfg_;
};
TORCH_MODULE(TextDecoder);

/// The extended additive mask (transformers 4.26.1 get_extended_attention_mask for a decoder): causal AND key
/// padding, (1 - m) * float32.min, for queries at positions past..past+n-1. -> [B, 1, n, past + n].
torch::Tensor decoder_attention_mask(const torch::Tensor& mask, std::int64_t past, std::int64_t n,
                                     torch::ScalarType dtype);

/// PrismerCaption's training loss: shifted cross-entropy with label_smoothing 0.1, -100 ignored, summed per
/// sample -> [B].
torch::Tensor caption_loss_per_sample(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace prismer::backbone
