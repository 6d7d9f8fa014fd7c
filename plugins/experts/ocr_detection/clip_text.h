// CLIP's text tower (openai/CLIP model.py encode_text) for the OCR word features: token + positional embedding,
// pre-LN residual attention blocks with a causal mask and QuickGELU MLPs, ln_final, the end-of-text token's
// feature times text_projection. Parameter names as in the official CLIP state dict (text keys only).
#pragma once

#include <prismer/weights.h>

#include <torch/nn.h>

#include <string>

namespace prismer::experts::ocr {

/// Text tower sizes; the defaults are ViT-L/14's.
struct ClipTextOptions {
  int64_t vocab_size = 49408;
  int64_t context_length = 77;
  int64_t width = 768;
  int64_t layers = 12;
  int64_t heads = 12;  ///< width / 64, as build_model
  int64_t embed_dim = 768;
};

class ClipTextImpl : public torch::nn::Module {
 public:
  explicit ClipTextImpl(const ClipTextOptions& options = {});
  /// encode_text: token ids [N, context_length] (int32/int64) -> unnormalised features [N, embed_dim] (float32).
  torch::Tensor encode_text(const torch::Tensor& tokens);
  const ClipTextOptions& options() const { return options_; }
  torch::Device device() const { return positional_embedding_.device(); }

 private:
  struct Block {
    torch::Tensor in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias;
    torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
    torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
  };
  ClipTextOptions options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::Tensor positional_embedding_, text_projection_;
  std::vector<Block> blocks_;
  torch::nn::LayerNorm ln_final_{nullptr};
};
TORCH_MODULE(ClipText);

/// The text part of a CLIP state dict: every key except `visual.*`, `logit_scale` and the JIT archive's
/// `input_resolution` / `context_length` / `vocab_size` entries.
TensorMap clip_text_weights(const TensorMap& clip);

/// Reads a CLIP checkpoint: the official TorchScript archive (ViT-L-14.pt, read with torch::jit::load) or any file
/// prismer::load_weights reads (a state dict). Throws WeightFileError naming the file.
TensorMap read_clip_checkpoint(const std::string& path);

/// Loads the text weights of a CLIP checkpoint strictly into `model` (float16 values are cast to float32, as
/// clip.load(device='cpu') does).
void load_clip_text(ClipTextImpl& model, const TensorMap& clip, const std::string& source);

}  // namespace prismer::experts::ocr
