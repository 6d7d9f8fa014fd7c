#include "linear.h"

#include "few_rows.h"

#include <ATen/autocast_mode.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace prismer::backbone {

namespace {

// Below this many rows OpenBLAS was as fast or faster than oneDNN here (64 rows: OpenBLAS; 200: either).
constexpr std::int64_t kOneDnnMinRows = 256;

std::atomic<bool>& onednn_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("PRISMER_LINEAR");
    return at::hasMKLDNN() && !(env != nullptr && std::strcmp(env, "blas") == 0);
  }()};
  return flag;
}

bool is_cpu_float(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided;
}

}  // namespace

void set_onednn_linear_enabled(bool enabled) { onednn_flag() = enabled && at::hasMKLDNN(); }

bool onednn_linear_enabled() { return onednn_flag(); }

bool onednn_linear_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!onednn_flag() || x.dim() < 2 || weight.dim() != 2 || x.size(-1) != weight.size(1) || !is_cpu_float(x) ||
      !is_cpu_float(weight) || (bias.defined() && !is_cpu_float(bias)) || at::autocast::is_cpu_enabled())
    return false;
  if (torch::GradMode::is_enabled() &&
      (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad())))
    return false;
  return x.numel() / std::max<std::int64_t>(1, x.size(-1)) >= kOneDnnMinRows;
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!onednn_linear_applies(x, weight, bias)) return few_rows_linear(x, weight, bias);
  const c10::optional<torch::Tensor> b = bias.defined() ? c10::optional<torch::Tensor>(bias.contiguous()) : c10::nullopt;
  return at::mkldnn_linear(x.contiguous().to_mkldnn(), weight.contiguous(), b).to_dense();
}

}  // namespace prismer::backbone
