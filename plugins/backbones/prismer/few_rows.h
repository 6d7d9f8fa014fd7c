// Products for a handful of rows (one decoding step of a few beams): the linear layers, reading each weight matrix
// once, and attention for a few queries, without one torch call per head.
#pragma once

#include <torch/torch.h>

namespace prismer::backbone {

/// F::linear(x, weight, bias). When x has at most 24 rows (all leading dimensions together), is float32 on the CPU,
/// and nothing needs a gradient, a kernel of our own (AVX-512 or AVX2+FMA) streams `weight` once for all rows:
/// OpenBLAS's gemm packs the whole weight matrix for so few rows and read it at ~11 GB/s here, this kernel at
/// ~22 GB/s, and one decoding step is little but such products. Otherwise (training, the encoder, large batches,
/// other dtypes or devices, CPUs without AVX2): F::linear.
/// The sums are taken in another order than BLAS's: results agree to float32 rounding, not bitwise.
torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

/// The same for a torch::nn::Linear module.
inline torch::Tensor few_rows_linear(const torch::nn::Linear& linear, const torch::Tensor& x) {
  return few_rows_linear(x, linear->weight, linear->bias);
}

/// True when few_rows_attention() can run: float32 CPU tensors, nothing needing a gradient, no autocast, at most
/// 32 query rows per matrix, and AVX-512 on this CPU.
bool few_rows_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

/// softmax(q k^T / divisor + mask) v for q [G, H, r, d], k and v [G, H, L, d], mask broadcastable to [G, H, r, L]
/// (or undefined): scores for all G*H matrices in one parallel pass, torch's softmax, then the weighted sums in
/// another. Same values as the matmul path to float32 rounding; where few_rows_attention_applies() is false, that
/// path itself.
torch::Tensor few_rows_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double divisor,
                                 const torch::Tensor& mask);

}  // namespace prismer::backbone
