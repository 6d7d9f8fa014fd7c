#include "vit_hybrid.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace F = torch::nn::functional;

namespace prismer::experts::depth {

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.device().is_cpu() || a.dim() < 3 || (torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())))
    return torch::matmul(a, b);
  const auto lead = a.sizes().slice(0, a.dim() - 2).vec();
  const torch::Tensor a3 = a.reshape({-1, a.size(-2), a.size(-1)});
  const torch::Tensor b3 = b.reshape({-1, b.size(-2), b.size(-1)});
  if (a3.size(0) != b3.size(0)) return torch::matmul(a, b);
  torch::Tensor out = torch::empty({a3.size(0), a3.size(1), b3.size(2)}, a.options());
  for (std::int64_t i = 0; i < a3.size(0); ++i) {
    torch::Tensor slot = out[i];
    torch::mm_out(slot, a3[i], b3[i]);
  }
  auto shape = lead;
  shape.push_back(a.size(-2));
  shape.push_back(b.size(-1));
  return out.view(shape);
}

AttentionImpl::AttentionImpl(std::int64_t dim, std::int64_t heads)
    : heads_(heads), scale_(1.0 / std::sqrt(static_cast<double>(dim / heads))) {
  if (dim % heads != 0) throw std::invalid_argument("ViT attention: width must be divisible by the head count");
  qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const std::int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  const auto qkv_t = qkv(x).reshape({b, n, 3, heads_, c / heads_}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_t[0], k = qkv_t[1], v = qkv_t[2];
  // As timm: the scale multiplies the logits (not q), then softmax.
  torch::Tensor attn = batched_matmul(q, k.transpose(-2, -1)).mul_(scale_).softmax(-1);
  torch::Tensor out = batched_matmul(attn, v).transpose(1, 2).reshape({b, n, c});
  return proj(out);
}

MlpImpl::MlpImpl(std::int64_t dim, std::int64_t hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }

BlockImpl::BlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t mlp_hidden) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
  attn = register_module("attn", Attention(dim, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
  mlp = register_module("mlp", Mlp(dim, mlp_hidden));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x + attn(norm1(x));
  return y + mlp(norm2(y));
}

VitHybridImpl::VitHybridImpl(const VitHybridConfig& config) : config_(config) {
  const std::int64_t w = config.width;
  // timm draws both from a truncated normal (std 0.02); only random mode sees these values.
  cls_token = register_parameter("cls_token", torch::randn({1, 1, w}) * 0.02);
  pos_embed = register_parameter("pos_embed", torch::randn({1, 1 + config.pretrain_grid * config.pretrain_grid, w}) * 0.02);
  patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  backbone = patch_embed->register_module("backbone", ResNetV2(config.resnet_layers));
  proj = patch_embed->register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(backbone->out_channels(), w, 1)));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config.depth; ++i) blocks->push_back(Block(w, config.heads, config.mlp_hidden));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(1e-6)));
  head = register_module("head", torch::nn::Linear(w, config.num_classes));
}

VitHybridFeatures VitHybridImpl::forward(const torch::Tensor& x, const std::vector<std::int64_t>& token_blocks) {
  const std::int64_t p = config_.patch;
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) % p != 0 || x.size(3) % p != 0)
    throw std::invalid_argument("ViT hybrid: expected an input [B, 3, H, W] with H and W multiples of " +
                                std::to_string(p));
  const std::int64_t gh = x.size(2) / p, gw = x.size(3) / p, b = x.size(0);
  // _resize_pos_embed: the grid part as [1, C, 24, 24], bilinear (align_corners=False) to (gh, gw).
  const std::int64_t g0 = static_cast<std::int64_t>(std::sqrt(static_cast<double>(pos_embed.size(1) - 1)));
  torch::Tensor grid = pos_embed.slice(1, 1).reshape({1, g0, g0, -1}).permute({0, 3, 1, 2});
  grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                  .size(std::vector<std::int64_t>{gh, gw})
                                  .mode(torch::kBilinear)
                                  .align_corners(false));
  grid = grid.permute({0, 2, 3, 1}).reshape({1, gh * gw, -1});
  const torch::Tensor pos = torch::cat({pos_embed.slice(1, 0, 1), grid}, 1);

  VitHybridFeatures out;
  out.stages = backbone(x);
  torch::Tensor t = proj(out.stages.back()).flatten(2).transpose(1, 2);
  t = torch::cat({cls_token.expand({b, -1, -1}), t}, 1) + pos;
  std::size_t next = 0;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(blocks->size()) && next < token_blocks.size(); ++i) {
    t = blocks[i]->as<BlockImpl>()->forward(t);
    if (i == token_blocks[next]) {
      out.tokens.push_back(t);
      ++next;
    }
  }
  if (next != token_blocks.size()) throw std::invalid_argument("ViT hybrid: requested block index out of range");
  return out;
}

}  // namespace prismer::experts::depth
