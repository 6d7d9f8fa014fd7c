#include "resampler.h"

#include <cmath>

namespace prismer::backbone {

PerceiverBlockImpl::PerceiverBlockImpl(std::int64_t width, std::int64_t heads) {
  attn = register_module("attn", MultiheadAttention(width, heads));
  mlp = register_module("mlp", TwoLayerMlp(width, width * 4, Activation::squared_relu, "c_fc", "c_proj"));
  ln_1 = register_module("ln_1", LayerNorm32(width));
  ln_2 = register_module("ln_2", LayerNorm32(width));
  ln_ff = register_module("ln_ff", LayerNorm32(width));
}

torch::Tensor PerceiverBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& latents) {
  auto kv = torch::cat({ln_1(latents), ln_2(x)}, 0);
  auto out = latents + attn(ln_1(latents), kv, false);
  return out + mlp(ln_ff(out));
}

PerceiverResamplerImpl::PerceiverResamplerImpl(std::int64_t width, std::int64_t layers, std::int64_t heads,
                                               std::int64_t num_latents) {
  latents = register_parameter("latents", torch::randn({num_latents, width}) / std::sqrt(static_cast<double>(width)));
  perceiver_blocks = register_module("perceiver_blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i) {
    blocks_.push_back(PerceiverBlock(width, heads));
    perceiver_blocks->push_back(blocks_.back());
  }
}

torch::Tensor PerceiverResamplerImpl::forward(const torch::Tensor& x) {
  auto lat = latents.unsqueeze(1).expand({-1, x.size(1), -1});
  for (auto& b : blocks_) lat = b(x, lat);
  return lat;
}

}  // namespace prismer::backbone
