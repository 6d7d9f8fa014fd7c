#include "pixel_decoder.h"

#include <cmath>
#include <string>

namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

namespace prismer::experts::seg {

torch::Tensor sine_position_embedding(const torch::Tensor& x, std::int64_t num_pos_feats) {
  // The original's tensor operations in order (float32), so the embedding matches bit for bit.
  const auto b = x.size(0), h = x.size(2), w = x.size(3);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  const torch::Tensor not_mask = torch::ones({b, h, w}, f32.dtype(torch::kBool));
  torch::Tensor y_embed = not_mask.cumsum(1, torch::kFloat32);
  torch::Tensor x_embed = not_mask.cumsum(2, torch::kFloat32);
  const double eps = 1e-6, scale = 2 * M_PI;
  y_embed = y_embed / (y_embed.index({Slice(), Slice(-1, None), Slice()}) + eps) * scale;
  x_embed = x_embed / (x_embed.index({Slice(), Slice(), Slice(-1, None)}) + eps) * scale;
  torch::Tensor dim_t = torch::arange(num_pos_feats, f32);
  dim_t = torch::pow(10000, 2 * torch::div(dim_t, 2, "trunc") / num_pos_feats);
  auto encode = [&](const torch::Tensor& e) {
    const torch::Tensor p = e.unsqueeze(-1) / dim_t;
    return torch::stack({p.index({"...", Slice(0, None, 2)}).sin(), p.index({"...", Slice(1, None, 2)}).cos()}, 4)
        .flatten(3);
  };
  return torch::cat({encode(y_embed), encode(x_embed)}, 3).permute({0, 3, 1, 2});
}

MSDeformAttnImpl::MSDeformAttnImpl(std::int64_t d_model, std::int64_t levels, std::int64_t heads, std::int64_t points)
    : d_model_(d_model), levels_(levels), heads_(heads), points_(points) {
  sampling_offsets = register_module("sampling_offsets", torch::nn::Linear(d_model, heads * levels * points * 2));
  attention_weights = register_module("attention_weights", torch::nn::Linear(d_model, heads * levels * points));
  value_proj = register_module("value_proj", torch::nn::Linear(d_model, d_model));
  output_proj = register_module("output_proj", torch::nn::Linear(d_model, d_model));
}

torch::Tensor MSDeformAttnImpl::forward(const torch::Tensor& query, const torch::Tensor& reference_points,
                                        const torch::Tensor& value_in,
                                        const std::vector<std::array<std::int64_t, 2>>& shapes) {
  const auto n = query.size(0), lq = query.size(1), len_in = value_in.size(1);
  const auto d = d_model_ / heads_;
  const torch::Tensor value = value_proj(value_in).view({n, len_in, heads_, d});
  const torch::Tensor offsets = sampling_offsets(query).view({n, lq, heads_, levels_, points_, 2});
  torch::Tensor weights = attention_weights(query).view({n, lq, heads_, levels_ * points_});
  weights = torch::softmax(weights, -1).view({n, lq, heads_, levels_, points_});
  std::vector<std::int64_t> normalizer_values;
  for (const auto& s : shapes) normalizer_values.insert(normalizer_values.end(), {s[1], s[0]});
  const torch::Tensor normalizer =
      torch::tensor(normalizer_values, torch::TensorOptions().dtype(torch::kLong)).to(query.device()).view({levels_, 2});
  const torch::Tensor locations =
      reference_points.index({Slice(), Slice(), None, Slice(), None, Slice()}) +
      offsets / normalizer.index({None, None, None, Slice(), None, Slice()});
  // ms_deform_attn_core_pytorch: grid_sample each level's value map at 2 * loc - 1 (align_corners=False, zeros).
  std::vector<std::int64_t> sizes;
  for (const auto& s : shapes) sizes.push_back(s[0] * s[1]);
  const auto value_list = value.split_with_sizes(sizes, 1);
  const torch::Tensor grids = 2 * locations - 1;
  std::vector<torch::Tensor> sampled;
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    const torch::Tensor v = value_list[l].flatten(2).transpose(1, 2).reshape({n * heads_, d, shapes[l][0], shapes[l][1]});
    const torch::Tensor g = grids.select(3, static_cast<std::int64_t>(l)).transpose(1, 2).flatten(0, 1);
    sampled.push_back(F::grid_sample(v, g, F::GridSampleFuncOptions()
                                               .mode(torch::kBilinear)
                                               .padding_mode(torch::kZeros)
                                               .align_corners(false)));
  }
  const torch::Tensor w = weights.transpose(1, 2).reshape({n * heads_, 1, lq, levels_ * points_});
  const torch::Tensor out = (torch::stack(sampled, -2).flatten(-2) * w).sum(-1).view({n, heads_ * d, lq});
  return output_proj(out.transpose(1, 2).contiguous());
}

DeformEncoderLayerImpl::DeformEncoderLayerImpl(std::int64_t d_model, std::int64_t ffn, std::int64_t levels,
                                               std::int64_t heads, std::int64_t points) {
  self_attn = register_module("self_attn", MSDeformAttn(d_model, levels, heads, points));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  linear1 = register_module("linear1", torch::nn::Linear(d_model, ffn));
  linear2 = register_module("linear2", torch::nn::Linear(ffn, d_model));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
}

torch::Tensor DeformEncoderLayerImpl::forward(const torch::Tensor& src, const torch::Tensor& pos,
                                              const torch::Tensor& reference_points,
                                              const std::vector<std::array<std::int64_t, 2>>& shapes) {
  torch::Tensor x = norm1(src + self_attn(src + pos, reference_points, src, shapes));
  return norm2(x + linear2(torch::relu(linear1(x))));
}

NormConvImpl::NormConvImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t groups_norm, bool relu)
    : padding_(kernel / 2), relu_(relu) {
  weight = register_parameter("weight", torch::empty({out, in, kernel, kernel}));
  torch::nn::init::kaiming_uniform_(weight, 1.0);
  norm = register_module("norm", torch::nn::GroupNorm(groups_norm, out));
}

torch::Tensor NormConvImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = norm(F::conv2d(x, weight, F::Conv2dFuncOptions().padding(padding_)));
  return relu_ ? torch::relu(y) : y;
}

PixelDecoderImpl::PixelDecoderImpl(const Mask2FormerConfig& cfg, const std::array<std::int64_t, 4>& in_channels)
    : conv_dim_(cfg.conv_dim) {
  const std::int64_t c = cfg.conv_dim;
  input_proj = register_module("input_proj", torch::nn::ModuleList());
  for (int i = 3; i >= 1; --i)  // res5, res4, res3: from low to high resolution
    input_proj->push_back(torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels[i], c, 1)),
                                                torch::nn::GroupNorm(32, c)));
  transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  level_embed = transformer->register_parameter("level_embed", torch::zeros({3, c}));
  encoder = transformer->register_module("encoder", std::make_shared<torch::nn::Module>());
  layers = encoder->register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < cfg.encoder_layers; ++i)
    layers->push_back(DeformEncoderLayer(c, cfg.encoder_ffn, 3, cfg.heads, cfg.encoder_points));
  mask_features = register_module("mask_features", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, c, 1)));
  adapter_1 = register_module("adapter_1", NormConv(in_channels[0], c, 1, 32, false));
  layer_1 = register_module("layer_1", NormConv(c, c, 3, 32, true));
}

PixelDecoderOutput PixelDecoderImpl::forward(const std::array<torch::Tensor, 4>& features) {
  // Levels res5, res4, res3 (coarsest first): projected maps, their sine embeddings + level embeddings.
  std::vector<torch::Tensor> src, pos;
  std::vector<std::array<std::int64_t, 2>> shapes;
  for (int l = 0; l < 3; ++l) {
    const torch::Tensor& x = features[static_cast<std::size_t>(3 - l)];
    const torch::Tensor s = input_proj[static_cast<std::size_t>(l)]->as<torch::nn::SequentialImpl>()->forward(x);
    shapes.push_back({s.size(2), s.size(3)});
    src.push_back(s.flatten(2).transpose(1, 2));
    pos.push_back(sine_position_embedding(x, conv_dim_ / 2).flatten(2).transpose(1, 2) +
                  level_embed[l].view({1, 1, -1}));
  }
  const torch::Tensor src_flat = torch::cat(src, 1), pos_flat = torch::cat(pos, 1);
  const auto bs = src_flat.size(0);
  // Reference points: pixel centres normalised by the level size (valid ratios are all 1: no padding mask).
  std::vector<torch::Tensor> refs;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(src_flat.device());
  for (const auto& [h, w] : shapes) {
    const auto grid = torch::meshgrid({torch::linspace(0.5, static_cast<double>(h) - 0.5, h, f32),
                                       torch::linspace(0.5, static_cast<double>(w) - 0.5, w, f32)},
                                      "ij");
    const torch::Tensor ref_y = grid[0].reshape(-1).unsqueeze(0) / static_cast<double>(h);
    const torch::Tensor ref_x = grid[1].reshape(-1).unsqueeze(0) / static_cast<double>(w);
    refs.push_back(torch::stack({ref_x, ref_y}, -1));
  }
  const torch::Tensor reference_points =
      torch::cat(refs, 1).unsqueeze(2).expand({bs, -1, 3, 2}).contiguous();  // [bs, len, levels, 2]
  torch::Tensor memory = src_flat;
  for (const auto& layer : *layers)
    memory = layer->as<DeformEncoderLayerImpl>()->forward(memory, pos_flat, reference_points, shapes);

  std::vector<torch::Tensor> out;
  std::int64_t start = 0;
  for (const auto& [h, w] : shapes) {
    out.push_back(memory.narrow(1, start, h * w).transpose(1, 2).view({bs, -1, h, w}));
    start += h * w;
  }
  // The extra FPN level on res2: lateral 1x1 conv + bilinear upsampling of the res3-level map, 3x3 conv.
  const torch::Tensor lateral = adapter_1(features[0]);
  const torch::Tensor up = F::interpolate(out.back(), F::InterpolateFuncOptions()
                                                          .size(std::vector<std::int64_t>{lateral.size(2), lateral.size(3)})
                                                          .mode(torch::kBilinear)
                                                          .align_corners(false));
  const torch::Tensor fpn = layer_1(lateral + up);
  PixelDecoderOutput result;
  result.mask_features = mask_features(fpn);
  for (std::size_t i = 0; i < 3; ++i) result.multi_scale_features[i] = out[i];
  return result;
}

}  // namespace prismer::experts::seg
