// Mixed precision: autocast around the forward pass and a dynamic loss scaler for fp16, in the spirit of
// torch.cuda.amp (accelerate's `mixed_precision`, which the original scripts use). LibTorch 1.13 has autocast
// but no GradScaler, so the scaler is written here. fp32 (the default, and the only mode the parity tests
// use) leaves everything untouched.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer::engine {

enum class Precision { fp32, bf16, fp16 };

/// "fp32" | "bf16" | "fp16" (also "no" = fp32, as accelerate spells it); throws std::invalid_argument otherwise.
Precision parse_precision(const std::string& name);
std::string to_string(Precision p);

/// Enables autocast for the lifetime of the guard: fp16/bf16 on CUDA, bf16 on CPU (LibTorch 1.13's CPU autocast
/// knows bf16 only; fp16 on CPU throws). fp32: no effect.
class AutocastGuard {
 public:
  AutocastGuard(Precision precision, bool cuda);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::kFloat;
};

/// Dynamic loss scaling (GradScaler's defaults: scale 2^16, growth 2 every 2000 clean steps, backoff 0.5).
/// Disabled (scale 1, never skips) unless constructed enabled.
class GradScaler {
 public:
  explicit GradScaler(bool enabled = false) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  double scale() const { return enabled_ ? scale_ : 1.0; }
  /// loss * scale.
  torch::Tensor scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }
  /// Divides the gradients by the scale; returns false when any is inf/nan (the step must be skipped).
  bool unscale(const std::vector<torch::Tensor>& params);
  /// After a step (or a skipped one): backs off on overflow, grows after growth_interval clean steps.
  void update(bool found_finite);
  void set_state(double scale, long growth_tracker) { scale_ = scale, tracker_ = growth_tracker; }
  long growth_tracker() const { return tracker_; }

 private:
  bool enabled_;
  double scale_ = 65536.0;
  long tracker_ = 0;
  static constexpr long kGrowthInterval = 2000;
};

}  // namespace prismer::engine
