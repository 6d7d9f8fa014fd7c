// The expert encoder (model/modules/vit.py VisionTransformer): CLIP ViT with one stem per modality, a shared
// positional embedding (no class token) interpolated per modality, adaptors after every block, and the
// Perceiver resampler over all non-rgb tokens.
#pragma once

#include "config.h"
#include "layers.h"
#include "resampler.h"
#include "stems.h"

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace prismer::backbone {

class ResidualAttentionBlockImpl : public torch::nn::Module {
 public:
  ResidualAttentionBlockImpl(std::int64_t width, std::int64_t heads);
  torch::Tensor attention(const torch::Tensor& x);  // x + attn(ln_1(x))
  torch::Tensor mlp_step(const torch::Tensor& x);   // x + mlp(ln_2(x))
  MultiheadAttention attn{nullptr};
  TwoLayerMlp mlp{nullptr};
  LayerNorm32 ln_1{nullptr}, ln_2{nullptr};
};
TORCH_MODULE(ResidualAttentionBlock);

/// `resblocks.<i>`: child "0" the block, "1" its adaptor.
class VitLayerImpl : public torch::nn::Module {
 public:
  VitLayerImpl(std::int64_t width, std::int64_t heads);
  torch::Tensor forward(const torch::Tensor& x);
  ResidualAttentionBlock block{nullptr};
  Adaptor adaptor{nullptr};
};
TORCH_MODULE(VitLayer);

/// One modality's input, in concatenation order.
struct EncoderInput {
  std::string name;        ///< "rgb" or an expert name ("seg_coco", "obj_detection", ...)
  torch::Tensor x;         ///< [B, C, H, W]
  torch::Tensor instance;  ///< obj_detection only: [B, 1, H, W] instance ids (255 = background); may be undefined
};

/// Intermediates recorded by forward() when asked (names as in the fixtures).
struct EncoderTrace {
  std::map<std::string, torch::Tensor> stem_out;  ///< by stem name
  torch::Tensor pos_embed_expert;                 ///< interpolated positional embedding of the last expert
  torch::Tensor resampler_in, resampler_out, ln_pre_in;
};

/// Picks the instance-embedding row for an instance id (the reference calls random.randint(0, 127) per id).
using InstanceDraw = std::function<std::int64_t(std::int64_t instance_id)>;

class ExpertEncoderImpl : public torch::nn::Module {
 public:
  explicit ExpertEncoderImpl(const PrismerConfig& config);
  /// -> [L, B, width] (sequence-first, as the reference returns it).
  torch::Tensor forward(const std::vector<EncoderInput>& inputs, EncoderTrace* trace = nullptr,
                        const InstanceDraw& draw = {});
  const std::vector<LabelSpec>& experts() const { return experts_; }
  /// Seeds the default instance-embedding draws.
  void seed(std::uint64_t s) { rng_.seed(s); }

  torch::Tensor positional_embedding, instance_embedding;
  std::map<std::string, Stem> stems;
  PerceiverResampler resampler{nullptr};
  LayerNorm32 ln_pre{nullptr}, ln_post{nullptr};

 private:
  std::vector<LabelSpec> experts_;
  std::vector<VitLayer> layers_;
  std::mt19937_64 rng_{0};
};
TORCH_MODULE(ExpertEncoder);

}  // namespace prismer::backbone
