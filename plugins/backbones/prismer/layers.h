// Building blocks shared by the expert encoder and the text decoder (model/modules/utils.py of the reference).
#pragma once

#include <torch/torch.h>

#include <string>

namespace prismer::backbone {

/// LayerNorm computed in float32 whatever the input dtype (the reference's `LayerNorm`).
class LayerNorm32Impl : public torch::nn::Module {
 public:
  explicit LayerNorm32Impl(std::int64_t dim, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  std::int64_t dim_;
  double eps_;
};
TORCH_MODULE(LayerNorm32);

enum class Activation { quick_gelu, squared_relu, gelu };
torch::Tensor activate(const torch::Tensor& x, Activation act);

/// Linear -> activation -> Linear with the reference's child names (`c_fc`/`c_proj`, `down_proj`/`up_proj`).
class TwoLayerMlpImpl : public torch::nn::Module {
 public:
  TwoLayerMlpImpl(std::int64_t dim, std::int64_t hidden, Activation act, const std::string& fc_name,
                  const std::string& proj_name);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc{nullptr}, proj{nullptr};

 private:
  Activation act_;
};
TORCH_MODULE(TwoLayerMlp);

/// torch.nn.MultiheadAttention (sequence-first, packed in_proj, no mask, no dropout), as PyTorch 1.13 computes it.
class MultiheadAttentionImpl : public torch::nn::Module {
 public:
  MultiheadAttentionImpl(std::int64_t dim, std::int64_t heads);
  /// q [Lq, B, D], kv [Lk, B, D] (self-attention when `kv` is `q`, the same tensor) -> [Lq, B, D].
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& kv, bool self_attention);
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  std::int64_t dim_, heads_;
};
TORCH_MODULE(MultiheadAttention);

/// The reference's Adaptor: `adaptor.{down_proj,up_proj}` with squared ReLU and `adaptor_ln`.
/// norm_late=false (vision): x + mlp(ln(x)); norm_late=true (language): ln(mlp(x) + x).
class AdaptorImpl : public torch::nn::Module {
 public:
  AdaptorImpl(std::int64_t dim, bool norm_late, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  TwoLayerMlp adaptor{nullptr};
  LayerNorm32 adaptor_ln{nullptr};

 private:
  bool norm_late_;
};
TORCH_MODULE(Adaptor);

/// model/modules/utils.py interpolate_pos_embed: [L, D] -> [n*n, D] with n = int(sqrt(target_len)), bicubic
/// (align_corners=False); returned unchanged when int(sqrt(L)) == n (so 196 -> 200 gives 196 rows).
torch::Tensor interpolate_pos_embed(const torch::Tensor& pos_embed, std::int64_t target_len);

/// Batched matrix product [N, n, k] x [N, k, m] -> [N, n, m]. On the CPU each matrix goes to BLAS through mm:
/// LibTorch 1.13's CPU bmm without MKL (Debian's build) takes a generic kernel about 18x slower for attention shapes.
/// Inputs of more dimensions are flattened over the leading ones.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace prismer::backbone
