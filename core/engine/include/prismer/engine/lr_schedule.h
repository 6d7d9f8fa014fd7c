// The learning-rate schedules of the original training scripts (NVlabs/prismer utils.py, train_*.py).
#pragma once

#include <cstdint>
#include <string>

namespace prismer::engine {

/// utils.cosine_lr_schedule: (init - min) * 0.5 * (1 + cos(pi * t / total)) + min.
double cosine_lr(double t, double total, double init_lr, double min_lr);
/// utils.warmup_lr_schedule: min(max_lr, init_lr + (max_lr - init_lr) * step / max_step).
double warmup_lr(std::int64_t step, std::int64_t max_step, double init_lr, double max_lr);

/// How the learning rate moves.
///  - "cosine_step": per optimiser step, cosine over max_epoch * steps_per_epoch (train_caption.py)
///  - "cosine_epoch": per epoch, cosine over max_epoch, set at each epoch's start (train_vqa.py, train_pretrain.py)
///  - "constant": init_lr
/// With warmup_steps > 0 (train_pretrain.py), the first warmup_steps optimiser steps instead use
/// warmup_lr(step, warmup_steps, warmup_lr, init_lr); as in the original, the last warm-up value then stays until
/// the next epoch sets its cosine value ("cosine_epoch"). Unlike the original, whose warm-up counter restarts at 0
/// when a run is resumed, the counter here is the global step, so a resumed run equals an uninterrupted one.
struct LrSchedule {
  std::string kind = "cosine_step";
  double init_lr = 5e-5;
  double min_lr = 0.0;
  double warmup_lr = 1e-6;
  std::int64_t warmup_steps = 0;

  /// Throws std::invalid_argument for an unknown kind or negative values.
  void validate() const;
  /// The rate of step `step_in_epoch` of `epoch` (both from 0).
  double lr_at(std::int64_t epoch, std::int64_t step_in_epoch, std::int64_t steps_per_epoch,
               std::int64_t max_epoch) const;
};

}  // namespace prismer::engine
