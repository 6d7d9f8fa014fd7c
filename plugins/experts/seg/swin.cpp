#include "swin.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

namespace prismer::experts::seg {

torch::Tensor relative_position_index(std::int64_t window) {
  const auto grids = torch::meshgrid({torch::arange(window), torch::arange(window)}, "ij");
  const torch::Tensor coords = torch::stack({grids[0], grids[1]}).flatten(1);                 // [2, w*w]
  torch::Tensor rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({1, 2, 0}).contiguous();  // [n, n, 2]
  rel.select(2, 0).add_(window - 1);
  rel.select(2, 1).add_(window - 1);
  rel.select(2, 0).mul_(2 * window - 1);
  return rel.sum(-1);
}

namespace {

/// [B, H, W, C] -> [B * H/w * W/w, w, w, C].
torch::Tensor window_partition(const torch::Tensor& x, std::int64_t w) {
  const auto b = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
  return x.view({b, h / w, w, wd / w, w, c}).permute({0, 1, 3, 2, 4, 5}).contiguous().view({-1, w, w, c});
}

torch::Tensor window_reverse(const torch::Tensor& windows, std::int64_t w, std::int64_t h, std::int64_t wd) {
  const auto b = windows.size(0) / (h * wd / w / w);
  return windows.view({b, h / w, wd / w, w, w, -1}).permute({0, 1, 3, 2, 4, 5}).contiguous().view({b, h, wd, -1});
}

/// BasicLayer's SW-MSA mask on the padded grid: 9 regions by the slices [0, -w), [-w, -s), [-s, end) of each
/// axis; -100 between tokens of different regions, else 0. [windows, w*w, w*w].
torch::Tensor shift_mask(std::int64_t h, std::int64_t w, std::int64_t window, std::int64_t shift,
                         const torch::Device& device) {
  const std::int64_t hp = (h + window - 1) / window * window, wp = (w + window - 1) / window * window;
  torch::Tensor img = torch::zeros({1, hp, wp, 1}, torch::TensorOptions().device(device));
  const std::array<std::pair<std::int64_t, std::int64_t>, 3> hs{
      {{0, hp - window}, {hp - window, hp - shift}, {hp - shift, hp}}};
  const std::array<std::pair<std::int64_t, std::int64_t>, 3> ws{
      {{0, wp - window}, {wp - window, wp - shift}, {wp - shift, wp}}};
  double cnt = 0;
  for (const auto& [h0, h1] : hs)
    for (const auto& [w0, w1] : ws) {
      if (h1 > h0 && w1 > w0) img.index_put_({Slice(), Slice(h0, h1), Slice(w0, w1), Slice()}, cnt);
      cnt += 1;
    }
  const torch::Tensor mw = window_partition(img, window).view({-1, window * window});
  torch::Tensor mask = mw.unsqueeze(1) - mw.unsqueeze(2);
  return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0);
}

}  // namespace

WindowAttentionImpl::WindowAttentionImpl(std::int64_t dim, std::int64_t window, std::int64_t heads)
    : window_(window), heads_(heads), scale_(std::pow(static_cast<double>(dim / heads), -0.5)) {
  relative_position_bias_table = register_parameter(
      "relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), heads}));
  relative_position_index = seg::relative_position_index(window);
  qkv = register_module("qkv", torch::nn::Linear(dim, dim * 3));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const auto b = x.size(0), n = x.size(1), c = x.size(2);
  const torch::Tensor qkv_out = qkv(x).reshape({b, n, 3, heads_, c / heads_}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_out[0] * scale_, k = qkv_out[1], v = qkv_out[2];
  torch::Tensor attn = torch::matmul(q, k.transpose(-2, -1));
  if (relative_position_index.device() != relative_position_bias_table.device())
    relative_position_index = relative_position_index.to(relative_position_bias_table.device());
  const torch::Tensor bias = relative_position_bias_table.index({relative_position_index.view(-1)})
                                 .view({window_ * window_, window_ * window_, -1})
                                 .permute({2, 0, 1})
                                 .contiguous();
  attn = attn + bias.unsqueeze(0);
  if (mask.defined()) {
    const auto nw = mask.size(0);
    attn = attn.view({b / nw, nw, heads_, n, n}) + mask.unsqueeze(1).unsqueeze(0);
    attn = attn.view({-1, heads_, n, n});
  }
  attn = torch::softmax(attn, -1);
  return proj(torch::matmul(attn, v).transpose(1, 2).reshape({b, n, c}));
}

SwinBlockImpl::SwinBlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t window, std::int64_t shift,
                             double mlp_ratio)
    : window_(window), shift_(shift) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  attn = register_module("attn", WindowAttention(dim, window, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  const auto hidden = static_cast<std::int64_t>(static_cast<double>(dim) * mlp_ratio);
  fc1 = mlp->register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = mlp->register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor SwinBlockImpl::forward(const torch::Tensor& x, std::int64_t h, std::int64_t w,
                                     const torch::Tensor& mask) {
  const auto b = x.size(0), c = x.size(2);
  const torch::Tensor shortcut = x;
  torch::Tensor y = norm1(x).view({b, h, w, c});
  const std::int64_t pad_r = (window_ - w % window_) % window_, pad_b = (window_ - h % window_) % window_;
  y = F::pad(y, F::PadFuncOptions({0, 0, 0, pad_r, 0, pad_b}));
  const auto hp = y.size(1), wp = y.size(2);
  if (shift_ > 0) y = torch::roll(y, {-shift_, -shift_}, {1, 2});
  torch::Tensor windows = window_partition(y, window_).view({-1, window_ * window_, c});
  windows = attn(windows, shift_ > 0 ? mask : torch::Tensor());
  y = window_reverse(windows.view({-1, window_, window_, c}), window_, hp, wp);
  if (shift_ > 0) y = torch::roll(y, {shift_, shift_}, {1, 2});
  if (pad_r > 0 || pad_b > 0) y = y.index({Slice(), Slice(None, h), Slice(None, w), Slice()}).contiguous();
  y = shortcut + y.view({b, h * w, c});
  return y + fc2(F::gelu(fc1(norm2(y))));
}

PatchMergingImpl::PatchMergingImpl(std::int64_t dim) {
  reduction = register_module("reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4 * dim})));
}

torch::Tensor PatchMergingImpl::forward(const torch::Tensor& x, std::int64_t h, std::int64_t w) {
  const auto b = x.size(0), c = x.size(2);
  torch::Tensor y = x.view({b, h, w, c});
  if (h % 2 == 1 || w % 2 == 1) y = F::pad(y, F::PadFuncOptions({0, 0, 0, w % 2, 0, h % 2}));
  const torch::Tensor x0 = y.index({Slice(), Slice(0, None, 2), Slice(0, None, 2), Slice()});
  const torch::Tensor x1 = y.index({Slice(), Slice(1, None, 2), Slice(0, None, 2), Slice()});
  const torch::Tensor x2 = y.index({Slice(), Slice(0, None, 2), Slice(1, None, 2), Slice()});
  const torch::Tensor x3 = y.index({Slice(), Slice(1, None, 2), Slice(1, None, 2), Slice()});
  y = torch::cat({x0, x1, x2, x3}, -1).view({b, -1, 4 * c});
  return reduction(norm(y));
}

SwinStageImpl::SwinStageImpl(std::int64_t dim, std::int64_t depth, std::int64_t heads, std::int64_t window_size,
                             double mlp_ratio, bool with_downsample)
    : window(window_size) {
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < depth; ++i)
    blocks->push_back(SwinBlock(dim, heads, window_size, i % 2 == 0 ? 0 : window_size / 2, mlp_ratio));
  if (with_downsample) downsample = register_module("downsample", PatchMerging(dim));
}

SwinTransformerImpl::SwinTransformerImpl(const SwinConfig& cfg) : cfg_(cfg) {
  if (cfg.depths.size() != 4 || cfg.num_heads.size() != 4)
    throw std::invalid_argument("Swin: expected 4 stages (depths and num_heads)");
  patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  patch_proj = patch_embed->register_module(
      "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, cfg.embed_dim, cfg.patch_size).stride(cfg.patch_size)));
  patch_norm = patch_embed->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.embed_dim})));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::size_t i = 0; i < 4; ++i)
    layers->push_back(SwinStage(cfg.embed_dim << i, cfg.depths[i], cfg.num_heads[i], cfg.window_size, cfg.mlp_ratio,
                                i < 3));
  for (std::size_t i = 0; i < 4; ++i)
    norms[i] = register_module("norm" + std::to_string(i),
                               torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.embed_dim << i})));
}

std::array<torch::Tensor, 4> SwinTransformerImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = input;
  const std::int64_t p = cfg_.patch_size;
  if (x.size(3) % p != 0) x = F::pad(x, F::PadFuncOptions({0, p - x.size(3) % p}));
  if (x.size(2) % p != 0) x = F::pad(x, F::PadFuncOptions({0, 0, 0, p - x.size(2) % p}));
  x = patch_proj(x);
  std::int64_t h = x.size(2), w = x.size(3);
  x = patch_norm(x.flatten(2).transpose(1, 2));  // the view back to [B, C, H, W] and flatten again cancel out
  std::array<torch::Tensor, 4> outs;
  for (std::size_t i = 0; i < 4; ++i) {
    auto* stage = layers[i]->as<SwinStageImpl>();
    const std::int64_t window = stage->window;
    const torch::Tensor mask = shift_mask(h, w, window, window / 2, x.device());
    for (const auto& blk : *stage->blocks) x = blk->as<SwinBlockImpl>()->forward(x, h, w, mask);
    const std::int64_t c = x.size(2);
    outs[i] = norms[i](x).view({-1, h, w, c}).permute({0, 3, 1, 2}).contiguous();
    if (stage->downsample) {
      x = stage->downsample(x, h, w);
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
  }
  return outs;
}

}  // namespace prismer::experts::seg
