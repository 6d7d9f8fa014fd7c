// The backbone's one entry for x W^T + b: each product goes to the fastest path this machine has for its shape.
#pragma once

#include <torch/torch.h>

namespace prismer::backbone {

/// F::linear(x, weight, bias), computed by
///  - few_rows_linear() for at most 24 rows (a decoding step: the weight matrix streamed once for all rows);
///  - oneDNN (LibTorch's mkldnn_linear) for at least 256 rows of float32 on the CPU when nothing needs a gradient
///    (the expert encoder, the cross-attention keys of a prompt): its kernels use the widest vectors the CPU has,
///    where OpenBLAS runs the kernel OPENBLAS_CORETYPE names or detects. Measured here (2 cores, AVX-512 CPU,
///    OPENBLAS_CORETYPE=Haswell): the BASE expert encoder at 480 px with six experts 1.76 -> 1.35 s;
///  - F::linear (OpenBLAS) otherwise: training, autocast, other dtypes and devices, LibTorch builds without oneDNN.
/// Results agree with F::linear to float32 rounding, not bitwise.
///
///     auto y = linear(x, layer->weight, layer->bias);   // or linear(layer, x)
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

/// The same for a torch::nn::Linear module.
inline torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return linear(x, layer->weight, layer->bias);
}

/// Whether linear() may use oneDNN (default: yes, unless the environment sets PRISMER_LINEAR=blas). The benchmarks
/// switch it to measure both paths in one process.
void set_onednn_linear_enabled(bool enabled);
bool onednn_linear_enabled();

/// True when linear(x, weight, bias) would run on oneDNN.
bool onednn_linear_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace prismer::backbone
