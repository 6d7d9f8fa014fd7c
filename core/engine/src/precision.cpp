#include <prismer/engine/precision.h>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <stdexcept>

namespace prismer::engine {

Precision parse_precision(const std::string& name) {
  if (name == "fp32" || name == "no") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  if (name == "fp16") return Precision::fp16;
  throw std::invalid_argument("unknown precision '" + name + "' (known: fp32, bf16, fp16)");
}

std::string to_string(Precision p) {
  switch (p) {
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
    default: return "fp32";
  }
}

AutocastGuard::AutocastGuard(Precision precision, bool cuda) : cuda_(cuda) {
  if (precision == Precision::fp32) return;
  const auto dtype = precision == Precision::bf16 ? at::kBFloat16 : at::kHalf;
  if (!cuda && precision == Precision::fp16)
    throw std::invalid_argument("precision fp16 needs a CUDA device (CPU autocast supports bf16 only)");
  active_ = true;
  if (cuda_) {
    prev_enabled_ = at::autocast::is_enabled();
    prev_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    prev_enabled_ = at::autocast::is_cpu_enabled();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // as torch.autocast.__exit__: the cast cache is dropped when the outermost region ends
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(prev_enabled_);
    at::autocast::set_autocast_gpu_dtype(prev_dtype_);
  } else {
    at::autocast::set_cpu_enabled(prev_enabled_);
    at::autocast::set_autocast_cpu_dtype(prev_dtype_);
  }
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& params) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  const double inv = 1.0 / scale_;
  bool finite = true;
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inv);
    if (finite && !torch::isfinite(g).all().item<bool>()) finite = false;
  }
  return finite;
}

void GradScaler::update(bool found_finite) {
  if (!enabled_) return;
  if (!found_finite) {
    scale_ *= 0.5;
    tracker_ = 0;
  } else if (++tracker_ >= kGrowthInterval) {
    scale_ *= 2.0;
    tracker_ = 0;
  }
}

}  // namespace prismer::engine
