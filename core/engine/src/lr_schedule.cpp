#include <prismer/engine/lr_schedule.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace prismer::engine {

double cosine_lr(double t, double total, double init_lr, double min_lr) {
  return (init_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * t / total)) + min_lr;
}

double warmup_lr(std::int64_t step, std::int64_t max_step, double init_lr, double max_lr) {
  return std::min(max_lr, init_lr + (max_lr - init_lr) * static_cast<double>(step) / static_cast<double>(max_step));
}

void LrSchedule::validate() const {
  if (kind != "cosine_step" && kind != "cosine_epoch" && kind != "constant")
    throw std::invalid_argument("unknown schedule '" + kind + "' (known: cosine_step, cosine_epoch, constant)");
  if (init_lr < 0 || min_lr < 0 || warmup_lr < 0) throw std::invalid_argument("learning rates must be >= 0");
  if (warmup_steps < 0) throw std::invalid_argument("warmup_steps must be >= 0");
}

double LrSchedule::lr_at(std::int64_t epoch, std::int64_t step_in_epoch, std::int64_t steps_per_epoch,
                         std::int64_t max_epoch) const {
  const std::int64_t global = epoch * steps_per_epoch + step_in_epoch;
  if (warmup_steps > 0 && global < warmup_steps) return engine::warmup_lr(global, warmup_steps, warmup_lr, init_lr);
  if (kind == "constant") return init_lr;
  if (kind == "cosine_step")
    return cosine_lr(static_cast<double>(global), static_cast<double>(max_epoch * steps_per_epoch), init_lr, min_lr);
  // cosine_epoch: a warm-up that ended inside this epoch leaves its last value until the next epoch starts
  if (warmup_steps > 0 && epoch * steps_per_epoch < warmup_steps)
    return engine::warmup_lr(warmup_steps - 1, warmup_steps, warmup_lr, init_lr);
  return cosine_lr(static_cast<double>(epoch), static_cast<double>(max_epoch), init_lr, min_lr);
}

}  // namespace prismer::engine
