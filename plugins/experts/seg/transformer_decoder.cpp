#include "transformer_decoder.h"

#include "pixel_decoder.h"  // sine_position_embedding

#include <cmath>
#include <string>

namespace F = torch::nn::functional;

namespace prismer::experts::seg {

namespace {

/// A post-norm layer's LayerNorm and its sub-layer, registered under the original names.
struct AttentionLayerImpl : torch::nn::Module {
  AttentionLayerImpl(const std::string& attn_name, std::int64_t dim, std::int64_t heads) {
    attn = register_module(attn_name, MultiheadAttention(dim, heads));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  }
  MultiheadAttention attn{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(AttentionLayer);

struct FfnLayerImpl : torch::nn::Module {
  FfnLayerImpl(std::int64_t dim, std::int64_t ffn) {
    linear1 = register_module("linear1", torch::nn::Linear(dim, ffn));
    linear2 = register_module("linear2", torch::nn::Linear(ffn, dim));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  }
  torch::Tensor forward(const torch::Tensor& x) { return norm(x + linear2(torch::relu(linear1(x)))); }
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(FfnLayer);

}  // namespace

MultiheadAttentionImpl::MultiheadAttentionImpl(std::int64_t dim, std::int64_t heads) : dim_(dim), heads_(heads) {
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
  out_proj = register_module("out_proj", torch::nn::Linear(dim, dim));
}

torch::Tensor MultiheadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key,
                                              const torch::Tensor& value, const torch::Tensor& mask) {
  const auto l = query.size(0), b = query.size(1), s = key.size(0);
  const auto hd = dim_ / heads_;
  // key is never value here, so torch projects q, k and v with separate linears (_in_projection_packed).
  const auto w = in_proj_weight.chunk(3), bias = in_proj_bias.chunk(3);
  torch::Tensor q = F::linear(query, w[0], bias[0]), k = F::linear(key, w[1], bias[1]),
                v = F::linear(value, w[2], bias[2]);
  q = q.contiguous().view({l, b * heads_, hd}).transpose(0, 1);
  k = k.contiguous().view({s, b * heads_, hd}).transpose(0, 1);
  v = v.contiguous().view({s, b * heads_, hd}).transpose(0, 1);
  q = q / std::sqrt(static_cast<double>(hd));
  torch::Tensor attn;
  if (mask.defined()) {
    const torch::Tensor additive = torch::zeros_like(mask, q.options()).masked_fill_(mask, -INFINITY);
    attn = torch::baddbmm(additive, q, k.transpose(-2, -1));
  } else {
    attn = torch::bmm(q, k.transpose(-2, -1));
  }
  attn = torch::softmax(attn, -1);
  const torch::Tensor out = torch::bmm(attn, v).transpose(0, 1).contiguous().view({l * b, dim_});
  return out_proj(out).view({l, b, dim_});
}

TransformerDecoderImpl::TransformerDecoderImpl(const Mask2FormerConfig& cfg) : cfg_(cfg) {
  const std::int64_t c = cfg.conv_dim;
  transformer_self_attention_layers = register_module("transformer_self_attention_layers", torch::nn::ModuleList());
  transformer_cross_attention_layers = register_module("transformer_cross_attention_layers", torch::nn::ModuleList());
  transformer_ffn_layers = register_module("transformer_ffn_layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < cfg.decoder_layers; ++i) {
    transformer_self_attention_layers->push_back(AttentionLayer("self_attn", c, cfg.heads));
    transformer_cross_attention_layers->push_back(AttentionLayer("multihead_attn", c, cfg.heads));
    transformer_ffn_layers->push_back(FfnLayer(c, cfg.decoder_ffn));
  }
  decoder_norm = register_module("decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  query_feat = register_module("query_feat", torch::nn::Embedding(cfg.num_queries, c));
  query_embed = register_module("query_embed", torch::nn::Embedding(cfg.num_queries, c));
  level_embed = register_module("level_embed", torch::nn::Embedding(3, c));
  class_embed = register_module("class_embed", torch::nn::Linear(c, cfg.num_classes + 1));
  mask_embed = register_module("mask_embed", std::make_shared<torch::nn::Module>());
  auto mlp = mask_embed->register_module("layers", torch::nn::ModuleList());
  for (auto& layer : mask_embed_layers) {
    layer = torch::nn::Linear(c, c);
    mlp->push_back(layer);
  }
}

MaskPrediction TransformerDecoderImpl::predict(const torch::Tensor& output, const torch::Tensor& mask_features,
                                               const std::array<std::int64_t, 2>& size, torch::Tensor& attn_mask) {
  const torch::Tensor decoded = decoder_norm(output).transpose(0, 1);  // [B, Q, C]
  MaskPrediction p;
  p.logits = class_embed(decoded);
  torch::Tensor e = torch::relu(mask_embed_layers[0](decoded));
  e = torch::relu(mask_embed_layers[1](e));
  e = mask_embed_layers[2](e);
  p.masks = torch::einsum("bqc,bchw->bqhw", {e, mask_features});
  // The next layer's attention mask: queries attend only where their (resized) mask is >= 0.5.
  const torch::Tensor resized = F::interpolate(p.masks, F::InterpolateFuncOptions()
                                                            .size(std::vector<std::int64_t>{size[0], size[1]})
                                                            .mode(torch::kBilinear)
                                                            .align_corners(false));
  attn_mask = resized.sigmoid().flatten(2).unsqueeze(1).repeat({1, cfg_.heads, 1, 1}).flatten(0, 1) < 0.5;
  return p;
}

DecoderOutput TransformerDecoderImpl::forward(const std::array<torch::Tensor, 3>& x, const torch::Tensor& mask_features,
                                              bool keep_aux) {
  std::array<torch::Tensor, 3> src, pos;
  std::array<std::array<std::int64_t, 2>, 3> sizes;
  for (std::size_t i = 0; i < 3; ++i) {
    sizes[i] = {x[i].size(2), x[i].size(3)};
    pos[i] = sine_position_embedding(x[i], cfg_.conv_dim / 2).flatten(2).permute({2, 0, 1});
    src[i] = (x[i].flatten(2) + level_embed->weight[static_cast<std::int64_t>(i)].unsqueeze(0).unsqueeze(-1))
                 .permute({2, 0, 1});
  }
  const auto bs = src[0].size(1);
  const torch::Tensor query_pos = query_embed->weight.unsqueeze(1).repeat({1, bs, 1});
  torch::Tensor output = query_feat->weight.unsqueeze(1).repeat({1, bs, 1});

  DecoderOutput result;
  torch::Tensor attn_mask;
  MaskPrediction p = predict(output, mask_features, sizes[0], attn_mask);
  for (std::int64_t i = 0; i < cfg_.decoder_layers; ++i) {
    if (keep_aux) result.aux.push_back(p);
    const auto level = static_cast<std::size_t>(i % 3);
    // A query whose mask covers nothing attends everywhere.
    attn_mask = attn_mask.logical_and(attn_mask.all(-1, true).logical_not());
    auto* cross = transformer_cross_attention_layers[static_cast<std::size_t>(i)]->as<AttentionLayerImpl>();
    output = cross->norm(output + cross->attn(output + query_pos, src[level] + pos[level], src[level], attn_mask));
    auto* self = transformer_self_attention_layers[static_cast<std::size_t>(i)]->as<AttentionLayerImpl>();
    const torch::Tensor qk = output + query_pos;
    output = self->norm(output + self->attn(qk, qk, output, torch::Tensor()));
    output = transformer_ffn_layers[static_cast<std::size_t>(i)]->as<FfnLayerImpl>()->forward(output);
    p = predict(output, mask_features, sizes[static_cast<std::size_t>((i + 1) % 3)], attn_mask);
  }
  result.final = p;
  return result;
}

}  // namespace prismer::experts::seg
