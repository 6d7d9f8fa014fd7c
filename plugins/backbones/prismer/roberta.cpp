#include "roberta.h"

#include "few_rows.h"
#include "linear.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace F = torch::nn::functional;

namespace prismer::backbone {

RobertaEmbeddingsImpl::RobertaEmbeddingsImpl(const RobertaConfig& c) : pad_(c.pad_token_id) {
  word_embeddings = register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)));
  position_embeddings = register_module(
      "position_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.max_position_embeddings, c.hidden_size)));
  token_type_embeddings = register_module(
      "token_type_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.type_vocab_size, c.hidden_size)));
  LayerNorm = register_module("LayerNorm", LayerNorm32(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
  position_ids = register_buffer("position_ids", torch::arange(c.max_position_embeddings, torch::kLong).unsqueeze(0));
}

torch::Tensor RobertaEmbeddingsImpl::forward(const torch::Tensor& ids, const torch::Tensor& past_nonpad) {
  // fairseq make_positions: (cumsum(id != pad) + past) * (id != pad) + pad
  auto m = ids.ne(pad_).to(torch::kLong);
  auto inc = torch::cumsum(m, 1);
  if (past_nonpad.defined()) inc = inc + past_nonpad.unsqueeze(1);
  auto pos = inc * m + pad_;
  auto tt = torch::zeros_like(ids);
  auto e = word_embeddings(ids) + token_type_embeddings(tt);
  e = e + position_embeddings(pos);
  return dropout(LayerNorm(e));
}

RobertaSelfAttentionImpl::RobertaSelfAttentionImpl(const RobertaConfig& c, bool cross)
    : heads_(c.num_attention_heads), head_dim_(c.hidden_size / c.num_attention_heads) {
  const std::int64_t all = heads_ * head_dim_;
  const std::int64_t kv_in = cross ? c.vision_hidden_size : c.hidden_size;
  query = register_module("query", torch::nn::Linear(c.hidden_size, all));
  key = register_module("key", torch::nn::Linear(kv_in, all));
  value = register_module("value", torch::nn::Linear(kv_in, all));
  dropout = register_module("dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
}

torch::Tensor RobertaSelfAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, head_dim_}).permute({0, 2, 1, 3});
}

torch::Tensor RobertaSelfAttentionImpl::attend(const torch::Tensor& q_states, const torch::Tensor& k,
                                               const torch::Tensor& v, const torch::Tensor& mask) {
  const std::int64_t rows = q_states.size(0), groups = k.size(0), n = q_states.size(1);
  if (rows % groups != 0)
    throw std::invalid_argument("decode: " + std::to_string(rows) + " decoder rows cannot share " + std::to_string(groups) +
                                " encoder rows (the rows of one encoder row must be consecutive)");
  const std::int64_t per = rows / groups;
  // Several rows per key/value row (the beams or candidates of one image against its cross-attention keys): each
  // group's rows become extra query rows of one product, so the shared keys/values are read once and never copied.
  // Row b meets key row b / per, as if the memory had been repeat_interleaved.
  auto q = linear(query, q_states).view({groups, per * n, heads_, head_dim_}).permute({0, 2, 1, 3});  // [G, H, per*n, hd]
  if (mask.defined() && per != 1) throw std::invalid_argument("decode: a masked attention needs one key row per query row");
  const double divisor = std::sqrt(static_cast<double>(head_dim_));
  torch::Tensor out;  // [G, H, per*n, hd]
  if (!is_training() && few_rows_attention_applies(q, k, v)) {  // a decoding step: a few query rows per matrix
    out = few_rows_attention(q, k, v, divisor, mask);
  } else {
    auto scores = batched_matmul(q, k.transpose(-1, -2)) / divisor;
    if (mask.defined()) {
      scores = scores + mask;
      scores = torch::clamp_min(scores, std::numeric_limits<float>::lowest());
    }
    auto probs = dropout(torch::softmax(scores, -1));
    out = batched_matmul(probs, v);
  }
  return out.permute({0, 2, 1, 3}).reshape({rows, n, heads_ * head_dim_});
}

RobertaOutputImpl::RobertaOutputImpl(std::int64_t in, std::int64_t out, double eps, double dropout_p) {
  dense = register_module("dense", torch::nn::Linear(in, out));
  LayerNorm = register_module("LayerNorm", LayerNorm32(out, eps));
  dropout = register_module("dropout", torch::nn::Dropout(dropout_p));
}

torch::Tensor RobertaOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return LayerNorm(dropout(linear(dense, x)) + residual);
}

RobertaAttentionImpl::RobertaAttentionImpl(const RobertaConfig& c, bool cross) : cross_(cross) {
  self = register_module("self", RobertaSelfAttention(c, cross));
  output = register_module("output",
                           RobertaOutput(c.hidden_size, c.hidden_size, c.layer_norm_eps, c.hidden_dropout_prob));
}

torch::Tensor RobertaAttentionImpl::forward(const torch::Tensor& h, const torch::Tensor& mask,
                                            const torch::Tensor& memory, torch::Tensor* k_cache,
                                            torch::Tensor* v_cache) {
  torch::Tensor k, v;
  if (cross_) {
    if (k_cache != nullptr && k_cache->defined()) {
      k = *k_cache;
      v = *v_cache;
    } else {
      // contiguous [M, H, L, hd]: every later step reads them as they are, without a reshaping copy
      k = self->split_heads(self->key(memory)).contiguous();
      v = self->split_heads(self->value(memory)).contiguous();
      if (k_cache != nullptr) {
        *k_cache = k;
        *v_cache = v;
      }
    }
  } else {
    k = self->split_heads(linear(self->key, h));
    v = self->split_heads(linear(self->value, h));
    if (k_cache != nullptr) {
      if (k_cache->defined()) {
        k = torch::cat({*k_cache, k}, 2);
        v = torch::cat({*v_cache, v}, 2);
      }
      *k_cache = k;
      *v_cache = v;
    }
  }
  return output(self->attend(h, k, v, mask), h);
}

RobertaLayerImpl::RobertaLayerImpl(const RobertaConfig& c) {
  attention = register_module("attention", RobertaAttention(c, false));
  auto inter = register_module("intermediate", std::make_shared<torch::nn::Module>());
  intermediate_dense = inter->register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  output = register_module(
      "output", RobertaOutput(c.intermediate_size, c.hidden_size, c.layer_norm_eps, c.hidden_dropout_prob));
}

torch::Tensor RobertaLayerImpl::mlp(const torch::Tensor& h) { return output(torch::gelu(linear(intermediate_dense, h)), h); }

DecoderBlockImpl::DecoderBlockImpl(const RobertaConfig& c) {
  layer = register_module("0", RobertaLayer(c));
  cross = register_module("1", RobertaAttention(c, true));
  adaptor = register_module("2", Adaptor(c.hidden_size, true, c.layer_norm_eps));
}

RobertaLMHeadImpl::RobertaLMHeadImpl(const RobertaConfig& c, const torch::Tensor& tied_weight) {
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  layer_norm = register_module("layer_norm", LayerNorm32(c.hidden_size, c.layer_norm_eps));
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>());
  weight = decoder->register_parameter("weight", tied_weight);
  decoder->register_parameter("bias", bias);
}

torch::Tensor RobertaLMHeadImpl::forward(const torch::Tensor& x) {
  return linear(layer_norm(torch::gelu(linear(dense, x))), weight, bias);
}

TextDecoderImpl::TextDecoderImpl(const RobertaConfig& c) : cfg_(c) {
  if (c.hidden_size % c.num_attention_heads != 0)
    throw std::invalid_argument("hidden_size must be divisible by num_attention_heads");
  auto roberta = register_module("roberta", std::make_shared<torch::nn::Module>());
  embeddings = roberta->register_module("embeddings", RobertaEmbeddings(c));
  auto encoder = roberta->register_module("encoder", std::make_shared<torch::nn::Module>());
  auto layer = encoder->register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    blocks.push_back(DecoderBlock(c));
    layer->push_back(blocks.back());
  }
  output_layer = encoder->register_module("output_layer", RobertaLayer(c));
  lm_head = register_module("lm_head", RobertaLMHead(c, embeddings->word_embeddings->weight));
}

torch::Tensor decoder_attention_mask(const torch::Tensor& mask, std::int64_t past, std::int64_t n,
                                     torch::ScalarType dtype) {
  const std::int64_t total = past + n;
  if (mask.size(1) != total)
    throw std::invalid_argument("decode: attention mask covers " + std::to_string(mask.size(1)) +
                                " positions, expected " + std::to_string(total));
  auto opts = torch::TensorOptions().device(mask.device()).dtype(torch::kLong);
  auto q = torch::arange(past, total, opts).view({n, 1});
  auto k = torch::arange(0, total, opts).view({1, total});
  auto causal = k.le(q).to(dtype);                                         // [n, T]
  auto ext = causal.unsqueeze(0).unsqueeze(0) * mask.to(dtype).unsqueeze(1).unsqueeze(1);  // [B, 1, n, T]
  return (1.0 - ext) * std::numeric_limits<float>::lowest();
}

torch::Tensor TextDecoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                                       KVCache* cache) {
  const std::int64_t past = cache != nullptr ? cache->length : 0;
  const std::int64_t n = ids.size(1);
  if (cache != nullptr && cache->self_k.empty()) {
    cache->self_k.resize(blocks.size() + 1);
    cache->self_v.resize(blocks.size() + 1);
    cache->cross_k.resize(blocks.size());
    cache->cross_v.resize(blocks.size());
  }
  torch::Tensor past_nonpad;
  if (cache != nullptr && cache->nonpad_count.defined()) past_nonpad = cache->nonpad_count;
  auto h = embeddings(ids, past_nonpad);
  auto m = mask.defined() ? mask : torch::ones({ids.size(0), past + n}, ids.options());
  auto ext = decoder_attention_mask(m.to(h.device()), past, n, h.scalar_type());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    auto& b = blocks[i];
    h = b->layer->attention(h, ext, torch::Tensor(), cache ? &cache->self_k[i] : nullptr,
                            cache ? &cache->self_v[i] : nullptr);
    h = b->cross(h, torch::Tensor(), memory, cache ? &cache->cross_k[i] : nullptr, cache ? &cache->cross_v[i] : nullptr);
    h = b->adaptor(h);
    h = b->layer->mlp(h);
  }
  const std::size_t last = blocks.size();
  h = output_layer->attention(h, ext, torch::Tensor(), cache ? &cache->self_k[last] : nullptr,
                              cache ? &cache->self_v[last] : nullptr);
  h = output_layer->mlp(h);
  if (cache != nullptr) {
    auto added = ids.ne(cfg_.pad_token_id).to(torch::kLong).sum(1);
    cache->nonpad_count = cache->nonpad_count.defined() ? cache->nonpad_count + added : added;
    cache->length = past + n;
  }
  return lm_head(h);
}

torch::Tensor caption_loss_per_sample(const torch::Tensor& logits, const torch::Tensor& labels) {
  const auto b = logits.size(0), v = logits.size(2);
  auto shift_logits = logits.slice(1, 0, -1).contiguous().view({-1, v});
  auto shift_labels = labels.slice(1, 1).contiguous().view({-1}).to(logits.device());
  auto loss = F::cross_entropy(shift_logits, shift_labels,
                               F::CrossEntropyFuncOptions().reduction(torch::kNone).label_smoothing(0.1).ignore_index(-100));
  return loss.view({b, -1}).sum(1);
}

}  // namespace prismer::backbone
