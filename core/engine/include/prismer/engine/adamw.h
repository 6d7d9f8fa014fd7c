// AdamW over named parameters with torch.optim.AdamW's semantics (PyTorch 1.13, single-tensor path):
// decoupled weight decay p *= 1 - lr*wd before the Adam update, bias corrections, eps added after the
// bias-corrected square root. Written out (not torch::optim::AdamW) so its state has stable names for
// checkpoints and the operation order is the reference's, op for op.
#pragma once

#include <prismer/weights.h>

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prismer::engine {

/// torch.optim.AdamW's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight_decay 1e-2); Prismer passes
/// init_lr and weight_decay 0.05 from its configs.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

/// A named parameter (the name is its first state_dict name).
using NamedParameter = std::pair<std::string, torch::Tensor>;

/// Parameters with requires_grad, each tensor once (tied weights under their first name), in registration order:
/// what `filter(lambda p: p.requires_grad, model.parameters())` gives the reference's optimiser.
std::vector<NamedParameter> trainable_parameters(const torch::nn::Module& module);

/// The optimiser. Weight decay applies to every parameter it holds (as Prismer's single param group does).
///
/// Example:
/// \code
///   AdamW opt(trainable_parameters(model), {5e-5, 0.9, 0.999, 1e-8, 0.05});
///   opt.zero_grad(); loss.backward(); opt.step();
/// \endcode
class AdamW {
 public:
  AdamW(std::vector<NamedParameter> params, AdamWOptions options);

  /// Zeroes existing gradients in place (PyTorch 1.13's zero_grad(set_to_none=False)).
  void zero_grad();
  /// One update of every parameter that has a gradient; parameters without one are skipped (no state change).
  void step();

  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const AdamWOptions& options() const { return options_; }
  const std::vector<NamedParameter>& parameters() const { return params_; }
  /// Number of step() calls.
  std::int64_t steps() const { return steps_; }

  /// The state as tensors: "<param>.exp_avg", "<param>.exp_avg_sq", "<param>.step" (float32 scalar, as torch
  /// keeps it) for every parameter that has state, plus "lr" (float64 scalar) and "steps" (int64).
  TensorMap state_dict() const;
  /// Restores state_dict(). Throws std::runtime_error naming `source` and the first bad entry on a mismatch
  /// (unknown parameter, wrong shape).
  void load_state_dict(const TensorMap& state, const std::string& source);

 private:
  struct ParamState {
    torch::Tensor exp_avg, exp_avg_sq;
    double step = 0;  // torch keeps a float32 tensor; its values here are small integers, exact either way
  };
  std::vector<NamedParameter> params_;
  std::vector<ParamState> state_;
  AdamWOptions options_;
  std::int64_t steps_ = 0;
};

}  // namespace prismer::engine
