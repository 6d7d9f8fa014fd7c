#include "clip_text.h"

#include "checkpoint.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace F = torch::nn::functional;

namespace prismer::experts::ocr {

ClipTextImpl::ClipTextImpl(const ClipTextOptions& o) : options_(o) {
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(o.vocab_size, o.width));
  positional_embedding_ = register_parameter("positional_embedding", torch::zeros({o.context_length, o.width}));
  auto transformer = std::make_shared<torch::nn::Module>("Transformer");
  auto resblocks = std::make_shared<torch::nn::Module>("Sequential");
  for (int64_t i = 0; i < o.layers; ++i) {
    auto block = std::make_shared<torch::nn::Module>("ResidualAttentionBlock");
    auto attn = std::make_shared<torch::nn::Module>("MultiheadAttention");
    Block b;
    b.in_proj_weight = attn->register_parameter("in_proj_weight", torch::zeros({3 * o.width, o.width}));
    b.in_proj_bias = attn->register_parameter("in_proj_bias", torch::zeros({3 * o.width}));
    auto out_proj = std::make_shared<torch::nn::Module>("Linear");
    b.out_proj_weight = out_proj->register_parameter("weight", torch::zeros({o.width, o.width}));
    b.out_proj_bias = out_proj->register_parameter("bias", torch::zeros({o.width}));
    attn->register_module("out_proj", out_proj);
    block->register_module("attn", attn);
    b.ln_1 = block->register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width}).eps(1e-5)));
    auto mlp = std::make_shared<torch::nn::Module>("Sequential");
    b.c_fc = mlp->register_module("c_fc", torch::nn::Linear(o.width, 4 * o.width));
    b.c_proj = mlp->register_module("c_proj", torch::nn::Linear(4 * o.width, o.width));
    block->register_module("mlp", mlp);
    b.ln_2 = block->register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width}).eps(1e-5)));
    resblocks->register_module(std::to_string(i), block);
    blocks_.push_back(b);
  }
  transformer->register_module("resblocks", resblocks);
  register_module("transformer", transformer);
  ln_final_ = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width}).eps(1e-5)));
  text_projection_ = register_parameter("text_projection", torch::zeros({o.width, o.embed_dim}));
}

torch::Tensor ClipTextImpl::encode_text(const torch::Tensor& tokens_in) {
  TORCH_CHECK(tokens_in.dim() == 2 && tokens_in.size(1) == options_.context_length,
              "CLIP text: expected token ids [N, ", options_.context_length, "], got ", tokens_in.sizes());
  const torch::Tensor tokens = tokens_in.to(positional_embedding_.device(), torch::kLong);
  const int64_t n = tokens.size(0), l = tokens.size(1), e = options_.width, heads = options_.heads;
  const int64_t hd = e / heads;
  torch::Tensor x = token_embedding_->forward(tokens) + positional_embedding_;  // [N, L, E]
  // build_attention_mask: -inf above the diagonal.
  const torch::Tensor mask =
      torch::full({l, l}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
  for (Block& b : blocks_) {
    // nn.MultiheadAttention(need_weights=False, attn_mask=mask): packed in-projection, q / sqrt(head_dim).
    const torch::Tensor h = b.ln_1->forward(x);
    const std::vector<torch::Tensor> qkv = F::linear(h, b.in_proj_weight, b.in_proj_bias).chunk(3, -1);
    auto split = [&](const torch::Tensor& t) { return t.reshape({n, l, heads, hd}).transpose(1, 2); };
    const torch::Tensor q = split(qkv[0]) / std::sqrt(static_cast<double>(hd));
    const torch::Tensor k = split(qkv[1]), v = split(qkv[2]);
    const torch::Tensor attn = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) + mask, -1);
    const torch::Tensor ctx = torch::matmul(attn, v).transpose(1, 2).reshape({n, l, e});
    x = x + F::linear(ctx, b.out_proj_weight, b.out_proj_bias);
    torch::Tensor m = b.c_fc->forward(b.ln_2->forward(x));
    m = m * torch::sigmoid(1.702 * m);  // QuickGELU
    x = x + b.c_proj->forward(m);
  }
  x = ln_final_->forward(x);
  const torch::Tensor eot = tokens.argmax(-1);
  return x.index({torch::arange(n, eot.options()), eot}).matmul(text_projection_);
}

TensorMap clip_text_weights(const TensorMap& clip) {
  TensorMap out;
  for (const auto& [key, value] : clip) {
    if (key.rfind("visual.", 0) == 0 || key == "logit_scale" || key == "input_resolution" ||
        key == "context_length" || key == "vocab_size")
      continue;
    out.emplace_back(key, value);
  }
  return out;
}

TensorMap read_clip_checkpoint(const std::string& path) {
  if (detect_weight_format(path) == WeightFormat::torch_zip) {
    // The released CLIP files are TorchScript archives; a torch.save zip falls through to load_weights.
    try {
      torch::jit::Module module = torch::jit::load(path, torch::kCPU);
      TensorMap out;
      for (const auto& p : module.named_parameters(true)) out.emplace_back(p.name, p.value.detach());
      for (const auto& b : module.named_buffers(true)) out.emplace_back(b.name, b.value.detach());
      if (!out.empty()) return out;
    } catch (const c10::Error&) {
    }
  }
  return load_weights(path);
}

void load_clip_text(ClipTextImpl& model, const TensorMap& clip, const std::string& source) {
  load_state_dict_strict(model, clip_text_weights(clip), source, "the CLIP text tower (ViT-L/14)");
}

}  // namespace prismer::experts::ocr
