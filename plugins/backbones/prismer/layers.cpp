#include "layers.h"

#include "linear.h"

#include <ATen/autocast_mode.h>

#include <cmath>

namespace F = torch::nn::functional;

namespace prismer::backbone {

LayerNorm32Impl::LayerNorm32Impl(std::int64_t dim, double eps) : dim_(dim), eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
  bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor LayerNorm32Impl::forward(const torch::Tensor& x) {
  const auto dtype = x.scalar_type();
  auto out = torch::layer_norm(x.to(torch::kFloat32), {dim_}, weight.to(torch::kFloat32), bias.to(torch::kFloat32), eps_);
  return out.to(dtype);
}

torch::Tensor activate(const torch::Tensor& x, Activation act) {
  switch (act) {
    case Activation::quick_gelu: return x * torch::sigmoid(1.702 * x);
    case Activation::squared_relu: return torch::square(torch::relu(x));
    case Activation::gelu: return torch::gelu(x);
  }
  return x;
}

TwoLayerMlpImpl::TwoLayerMlpImpl(std::int64_t dim, std::int64_t hidden, Activation act, const std::string& fc_name,
                                 const std::string& proj_name)
    : act_(act) {
  fc = register_module(fc_name, torch::nn::Linear(dim, hidden));
  proj = register_module(proj_name, torch::nn::Linear(hidden, dim));
}

torch::Tensor TwoLayerMlpImpl::forward(const torch::Tensor& x) {
  return linear(proj, activate(linear(fc, x), act_));
}

MultiheadAttentionImpl::MultiheadAttentionImpl(std::int64_t dim, std::int64_t heads) : dim_(dim), heads_(heads) {
  if (dim % heads != 0) throw std::invalid_argument("attention width must be divisible by the head count");
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  out_proj = register_module("out_proj", torch::nn::Linear(dim, dim));
  torch::NoGradGuard g;
  out_proj->bias.zero_();
}

torch::Tensor MultiheadAttentionImpl::forward(const torch::Tensor& q, const torch::Tensor& kv, bool self_attention) {
  const std::int64_t lq = q.size(0), b = q.size(1), lk = (self_attention ? q : kv).size(0), hd = dim_ / heads_;
  torch::Tensor Q, K, V;
  if (self_attention) {
    auto qkv = linear(q, in_proj_weight, in_proj_bias).chunk(3, -1);
    Q = qkv[0], K = qkv[1], V = qkv[2];
  } else {
    auto w = in_proj_weight.split_with_sizes({dim_, 2 * dim_});
    auto bb = in_proj_bias.split_with_sizes({dim_, 2 * dim_});
    Q = linear(q, w[0], bb[0]);
    auto kvp = linear(kv, w[1], bb[1]).chunk(2, -1);
    K = kvp[0], V = kvp[1];
  }
  Q = Q.contiguous().view({lq, b * heads_, hd}).transpose(0, 1);
  K = K.contiguous().view({lk, b * heads_, hd}).transpose(0, 1);
  V = V.contiguous().view({lk, b * heads_, hd}).transpose(0, 1);
  Q = Q / std::sqrt(static_cast<double>(hd));
  auto attn = torch::softmax(batched_matmul(Q, K.transpose(-2, -1)), -1);
  auto out = batched_matmul(attn, V);  // [B*H, Lq, hd]
  out = out.transpose(0, 1).contiguous().view({lq * b, dim_});
  return linear(out_proj, out).view({lq, b, dim_});
}

AdaptorImpl::AdaptorImpl(std::int64_t dim, bool norm_late, double eps) : norm_late_(norm_late) {
  adaptor = register_module("adaptor", TwoLayerMlp(dim, dim, Activation::squared_relu, "down_proj", "up_proj"));
  adaptor_ln = register_module("adaptor_ln", LayerNorm32(dim, eps));
}

torch::Tensor AdaptorImpl::forward(const torch::Tensor& x) {
  if (norm_late_) return adaptor_ln(adaptor(x) + x);
  return adaptor(adaptor_ln(x)) + x;
}

torch::Tensor interpolate_pos_embed(const torch::Tensor& pos_embed, std::int64_t target_len) {
  const auto orig = static_cast<std::int64_t>(std::sqrt(static_cast<double>(pos_embed.size(0))));
  const auto next = static_cast<std::int64_t>(std::sqrt(static_cast<double>(target_len)));
  if (orig == next) return pos_embed;
  auto grid = pos_embed.reshape({1, orig, orig, -1}).permute({0, 3, 1, 2});
  grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                  .size(std::vector<std::int64_t>{next, next})
                                  .mode(torch::kBicubic)
                                  .align_corners(false));
  return grid.permute({0, 2, 3, 1}).flatten(0, 2);
}

namespace {

// [N, n, k] x [N, k, m] -> [N, n, m], one BLAS gemm per matrix into one preallocated result.
torch::Tensor per_matrix_mm(const torch::Tensor& a3, const torch::Tensor& b3) {
  const std::int64_t n = a3.size(0);
  torch::Tensor out = torch::empty({n, a3.size(1), b3.size(2)}, a3.options());
  for (std::int64_t i = 0; i < n; ++i) {
    torch::Tensor slot = out[i];
    torch::mm_out(slot, a3[i], b3[i]);
  }
  return out;
}

// Autograd for per_matrix_mm: the backward products go through BLAS the same way. (Stacking per-matrix mm results
// instead made every select's backward allocate a zero tensor of the whole batch: quadratic in the batch.)
struct PerMatrixMm : torch::autograd::Function<PerMatrixMm> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a3, const torch::Tensor& b3) {
    ctx->save_for_backward({a3, b3});
    return per_matrix_mm(a3, b3);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& a3 = saved[0];
    const torch::Tensor& b3 = saved[1];
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor ga, gb;
    if (a3.requires_grad()) ga = per_matrix_mm(g, b3.transpose(1, 2));
    if (b3.requires_grad()) gb = per_matrix_mm(a3.transpose(1, 2), g);
    return {ga, gb};
  }
};

}  // namespace

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  // The per-matrix path is for float32 BLAS; autocast (which does not see mm_out) and other dtypes take matmul.
  if (!a.device().is_cpu() || a.dim() < 3 || a.scalar_type() != torch::kFloat || b.scalar_type() != torch::kFloat ||
      at::autocast::is_cpu_enabled())
    return torch::matmul(a, b);
  const auto lead = a.sizes().slice(0, a.dim() - 2).vec();
  const torch::Tensor a3 = a.reshape({-1, a.size(-2), a.size(-1)});
  std::vector<std::int64_t> b_shape = lead;
  b_shape.push_back(b.size(-2));
  b_shape.push_back(b.size(-1));
  // reshape of a broadcast b copies it, so its gradient is summed back over the broadcast by autograd
  const torch::Tensor b3 = b.expand(b_shape).reshape({-1, b.size(-2), b.size(-1)});
  const bool grad = torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
  const torch::Tensor out = grad ? PerMatrixMm::apply(a3, b3) : per_matrix_mm(a3, b3);
  auto shape = lead;
  shape.push_back(a.size(-2));
  shape.push_back(b.size(-1));
  return out.view(shape);
}

}  // namespace prismer::backbone
