#include "prismer_model.h"

namespace prismer::backbone {

PrismerModelImpl::PrismerModelImpl(const PrismerConfig& config) : config_(config) {
  if (config.roberta.vision_hidden_size != config.vit.width)
    throw std::invalid_argument("roberta.vision_hidden_size (" + std::to_string(config.roberta.vision_hidden_size) +
                                ") must equal the ViT width (" + std::to_string(config.vit.width) + ")");
  if (config.image_resolution % config.vit.patch_size != 0)
    throw std::invalid_argument("image_resolution must be a multiple of the patch size");
  expert_encoder = register_module("expert_encoder", ExpertEncoder(config));
  text_decoder = register_module("text_decoder", TextDecoder(config.roberta));
  apply_freeze(*this, config.freeze);
}

torch::Tensor PrismerModelImpl::encode(const ExpertInputs& inputs, EncoderTrace* trace, const InstanceDraw& draw) {
  std::vector<EncoderInput> in;
  in.push_back({"rgb", inputs.rgb, {}});
  for (const auto& e : config_.experts) {
    auto it = inputs.experts.find(e.name);
    if (it == inputs.experts.end()) continue;
    EncoderInput x{e.name, it->second, {}};
    if (stem_name(e) == "obj_detection") {
      auto inst = inputs.experts.find(e.name + ".instance");
      if (inst != inputs.experts.end()) {
        x.instance = inst->second;
      } else if (x.x.size(1) == e.channels + 1) {
        x.instance = x.x.slice(1, e.channels).round().to(torch::kLong);
        x.x = x.x.slice(1, 0, e.channels);
      }
    }
    in.push_back(std::move(x));
  }
  return expert_encoder->forward(in, trace, draw).transpose(0, 1);
}

torch::Tensor PrismerModelImpl::decode(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& memory,
                                       KVCache* cache) {
  return text_decoder->forward(ids, mask, memory, cache);
}

torch::Tensor PrismerModelImpl::loss_per_sample(const torch::Tensor& logits, const torch::Tensor& labels) const {
  return caption_loss_per_sample(logits, labels);
}

}  // namespace prismer::backbone
