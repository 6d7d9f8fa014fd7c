#include "vit.h"

#include <cmath>
#include <stdexcept>

namespace F = torch::nn::functional;

namespace prismer::backbone {

ResidualAttentionBlockImpl::ResidualAttentionBlockImpl(std::int64_t width, std::int64_t heads) {
  attn = register_module("attn", MultiheadAttention(width, heads));
  mlp = register_module("mlp", TwoLayerMlp(width, width * 4, Activation::quick_gelu, "c_fc", "c_proj"));
  ln_1 = register_module("ln_1", LayerNorm32(width));
  ln_2 = register_module("ln_2", LayerNorm32(width));
}

torch::Tensor ResidualAttentionBlockImpl::attention(const torch::Tensor& x) {
  return x + attn(ln_1(x), torch::Tensor(), true);
}

torch::Tensor ResidualAttentionBlockImpl::mlp_step(const torch::Tensor& x) { return x + mlp(ln_2(x)); }

VitLayerImpl::VitLayerImpl(std::int64_t width, std::int64_t heads) {
  block = register_module("0", ResidualAttentionBlock(width, heads));
  adaptor = register_module("1", Adaptor(width, false));
}

torch::Tensor VitLayerImpl::forward(const torch::Tensor& x) {
  return block->mlp_step(adaptor(block->attention(x)));
}

namespace {
bool is_instance_expert(const LabelSpec& s) { return stem_name(s) == "obj_detection"; }
}  // namespace

ExpertEncoderImpl::ExpertEncoderImpl(const PrismerConfig& config) : experts_(config.experts) {
  const auto& v = config.vit;
  const std::int64_t width = v.width;
  const double scale = 1.0 / std::sqrt(static_cast<double>(width));
  const std::int64_t grid = config.image_resolution / v.patch_size;
  positional_embedding = register_parameter("positional_embedding", torch::randn({grid * grid, width}) * scale);
  bool instance = false;
  for (const auto& e : experts_) instance = instance || is_instance_expert(e);
  if (instance) instance_embedding = register_parameter("instance_embedding", torch::randn({128, width}) * scale);

  auto conv1 = register_module("conv1", std::make_shared<torch::nn::Module>());
  stems.emplace("rgb", conv1->register_module("rgb", Stem(StemKind::patch, 3, width, v.patch_size)));
  for (const auto& e : experts_) {
    const std::string s = stem_name(e);
    if (stems.count(s) != 0U) continue;
    stems.emplace(s, conv1->register_module(s, Stem(e.kind == LabelKind::dense ? StemKind::dense : StemKind::semantic,
                                                    e.channels, width, v.patch_size)));
  }

  auto transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  auto resblocks = transformer->register_module("resblocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < v.layers; ++i) {
    layers_.push_back(VitLayer(width, v.heads));
    resblocks->push_back(layers_.back());
  }
  if (!experts_.empty())
    resampler = register_module("resampler", PerceiverResampler(width, config.resampler.layers, config.resampler.heads,
                                                                config.resampler.num_latents));
  ln_pre = register_module("ln_pre", LayerNorm32(width));
  ln_post = register_module("ln_post", LayerNorm32(width));
}

torch::Tensor ExpertEncoderImpl::forward(const std::vector<EncoderInput>& inputs, EncoderTrace* trace,
                                         const InstanceDraw& draw) {
  torch::Tensor rgb;
  std::vector<torch::Tensor> expert_tokens;
  for (const auto& in : inputs) {
    std::string domain = in.name;
    const LabelSpec* spec = nullptr;
    if (in.name != "rgb") {
      for (const auto& e : experts_)
        if (e.name == in.name) spec = &e;
      if (spec == nullptr) throw std::invalid_argument("expert encoder: no stem for input '" + in.name + "'");
      domain = stem_name(*spec);
    }
    auto x = stems.at(domain)(in.x);
    if (trace != nullptr) trace->stem_out[domain] = x;

    if (spec != nullptr && is_instance_expert(*spec) && in.instance.defined()) {
      auto map = F::interpolate(in.instance.to(x.scalar_type()),
                                F::InterpolateFuncOptions()
                                    .size(std::vector<std::int64_t>{x.size(2), x.size(3)})
                                    .mode(torch::kNearest));  // [B, 1, h, w]
      auto ids = std::get<0>(torch::_unique(in.instance.flatten(), true)).to(torch::kCPU);
      const auto n = ids.size(0);
      auto ids_acc = ids.to(torch::kLong);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t id = ids_acc[i].item<std::int64_t>();
        std::int64_t row;
        if (draw) {
          row = draw(id);
        } else {
          std::uniform_int_distribution<std::int64_t> d(0, 127);
          row = d(rng_);
        }
        auto hit = (map == static_cast<double>(id)).to(x.scalar_type());  // [B, 1, h, w]
        x = x + instance_embedding[row].to(x.scalar_type()).view({1, -1, 1, 1}) * hit;
      }
    }

    x = x.flatten(2).transpose(1, 2);  // [B, h*w, D]
    if (spec == nullptr) {
      rgb = x + positional_embedding.to(x.scalar_type());
    } else {
      auto pe = interpolate_pos_embed(positional_embedding.to(x.scalar_type()), x.size(1));
      if (trace != nullptr) trace->pos_embed_expert = pe;
      expert_tokens.push_back(x + pe);
    }
  }
  if (!rgb.defined()) throw std::invalid_argument("expert encoder: no 'rgb' input");

  torch::Tensor x;
  if (!expert_tokens.empty()) {
    if (!resampler) throw std::invalid_argument("expert encoder: expert inputs given to an RGB-only model");
    auto tokens = torch::cat(expert_tokens, 1).transpose(0, 1);
    auto latents = resampler(tokens);
    if (trace != nullptr) {
      trace->resampler_in = tokens;
      trace->resampler_out = latents;
    }
    x = torch::cat({rgb.transpose(0, 1), latents}, 0);
  } else {
    x = rgb.transpose(0, 1);
  }
  if (trace != nullptr) trace->ln_pre_in = x;
  x = ln_pre(x);
  for (auto& l : layers_) x = l(x);
  return ln_post(x);
}

}  // namespace prismer::backbone
