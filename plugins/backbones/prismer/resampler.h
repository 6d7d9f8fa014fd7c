// The Perceiver resampler (model/modules/resampler.py): expert tokens -> a fixed number of latents.
#pragma once

#include "layers.h"

namespace prismer::backbone {

class PerceiverBlockImpl : public torch::nn::Module {
 public:
  PerceiverBlockImpl(std::int64_t width, std::int64_t heads);
  /// x [L, B, D] expert tokens, latents [N, B, D] -> latents [N, B, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& latents);
  MultiheadAttention attn{nullptr};
  TwoLayerMlp mlp{nullptr};
  LayerNorm32 ln_1{nullptr}, ln_2{nullptr}, ln_ff{nullptr};
};
TORCH_MODULE(PerceiverBlock);

class PerceiverResamplerImpl : public torch::nn::Module {
 public:
  PerceiverResamplerImpl(std::int64_t width, std::int64_t layers, std::int64_t heads, std::int64_t num_latents);
  /// [L, B, D] -> [num_latents, B, D].
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor latents;
  torch::nn::ModuleList perceiver_blocks{nullptr};

 private:
  std::vector<PerceiverBlock> blocks_;
};
TORCH_MODULE(PerceiverResampler);

}  // namespace prismer::backbone
