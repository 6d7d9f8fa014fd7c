// The whole Prismer model (model/prismer.py): `expert_encoder` + `text_decoder`, named as the reference
// state_dict, so official checkpoints load key for key.
#pragma once

#include "checkpoint.h"
#include "config.h"
#include "kv_cache.h"
#include "roberta.h"
#include "vit.h"

#include <prismer/backbone.h>

namespace prismer::backbone {

class PrismerModelImpl : public torch::nn::Module {
 public:
  explicit PrismerModelImpl(const PrismerConfig& config);

  /// Encoder output [B, L, D] (batch-first) from the rgb batch and the experts of ExpertInputs. The experts are
  /// taken in the configured order; an "obj_detection" input may carry its instance map as
  /// `experts["obj_detection.instance"]` or as a 65th channel. Experts missing from `inputs` are skipped.
  torch::Tensor encode(const ExpertInputs& inputs, EncoderTrace* trace = nullptr, const InstanceDraw& draw = {});
  /// Decoder logits [B, n, V] (see TextDecoderImpl::forward).
  torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                       KVCache* cache = nullptr);
  /// The captioning loss per sample (shifted, label smoothing 0.1, -100 ignored, summed) -> [B].
  torch::Tensor loss_per_sample(const torch::Tensor& logits, const torch::Tensor& labels) const;

  const PrismerConfig& config() const { return config_; }
  ExpertEncoder expert_encoder{nullptr};
  TextDecoder text_decoder{nullptr};

 private:
  PrismerConfig config_;
};
TORCH_MODULE(PrismerModel);

}  // namespace prismer::backbone
