// The training loop of the original train_*.py scripts: per epoch model.train(), for each batch set the learning
// rate, loss = forward, zero_grad, backward, AdamW step; then evaluate, keep the best model and write a
// checkpoint to resume from. Adds what the originals get from accelerate: gradient accumulation, optional
// gradient clipping, autocast with loss scaling.
#pragma once

#include <prismer/engine/adamw.h>
#include <prismer/engine/batch_source.h>
#include <prismer/engine/checkpoint_store.h>
#include <prismer/engine/lr_schedule.h>
#include <prismer/engine/precision.h>
#include <prismer/task.h>

#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prismer::engine {

class DataParallel;

struct TrainerOptions {
  std::int64_t max_epoch = 1;
  LrSchedule schedule;             ///< sets the optimiser's lr before every step
  AdamWOptions adamw;              ///< lr is taken from the schedule
  std::int64_t accumulate = 1;     ///< batches per optimiser step (the loss is averaged over them)
  double clip_grad_norm = 0.0;     ///< > 0: clip the global L2 norm of the gradients (the original does not)
  Precision precision = Precision::fp32;
  std::string output;              ///< checkpoint folder (see CheckpointStore); empty: nothing is written
  bool resume = false;             ///< continue from <output>/last when it exists
  std::string metric;              ///< evaluator metric that selects the best model (e.g. "CIDEr"); empty: last
  bool higher_is_better = true;
  bool save_torch = true;          ///< the best model as <output>/pytorch_model.bin (the official format)
  bool save_safetensors = false;   ///< ... and/or as <output>/model.safetensors
  bool show_progress = true;       ///< progress line with loss, lr, samples/s and ETA on stderr
  std::string config_text;         ///< stored with each checkpoint
  /// Several processes (see data_parallel.h): gradients averaged over the ranks, optional sharding; rank 0 alone
  /// writes checkpoints, in the single-process format. Null: one process, and none of this code runs.
  std::shared_ptr<DataParallel> parallel;
};

/// What happened in one optimiser step (for hooks and logs).
struct StepInfo {
  std::int64_t epoch = 0, step_in_epoch = 0, global_step = 0;
  double loss = 0.0, lr = 0.0;
  bool skipped = false;  ///< fp16 overflow: the step was skipped
};

struct EpochReport {
  std::int64_t epoch = 0;
  double train_loss = 0.0;  ///< mean batch loss
  Metrics metrics;
  bool best = false;
};

/// The loss of one batch (a scalar with a graph).
using LossFn = std::function<torch::Tensor(const Batch&)>;
/// Evaluation after epoch `epoch`; its metrics are logged and `TrainerOptions::metric` selects the best model.
/// With several processes it runs on every rank (with the full parameters) and rank 0's metrics count.
using EvalFn = std::function<Metrics(std::int64_t epoch)>;

class Trainer {
 public:
  /// Trains the parameters of `model` that require grad (freeze first).
  Trainer(torch::nn::Module& model, TrainerOptions options);

  void set_evaluator(EvalFn evaluate) { evaluate_ = std::move(evaluate); }
  /// Called after every optimiser step; may throw to stop the run (tests simulate a crash this way).
  void set_step_hook(std::function<void(const StepInfo&)> hook) { hook_ = std::move(hook); }

  /// Trains from the current epoch (after resuming, when asked and possible) to max_epoch.
  std::vector<EpochReport> fit(BatchSource& data, const LossFn& loss);

  AdamW& optimizer() { return *optimizer_; }
  const TrainProgress& progress() const { return progress_; }
  const TrainerOptions& options() const { return options_; }

 private:
  bool step(const std::vector<torch::Tensor>& params);
  void save_last();
  torch::nn::Module& model_;
  TrainerOptions options_;
  std::unique_ptr<AdamW> optimizer_;
  GradScaler scaler_;
  TrainProgress progress_;
  std::optional<CheckpointStore> store_;
  EvalFn evaluate_;
  std::function<void(const StepInfo&)> hook_;
  bool cuda_ = false;
};

}  // namespace prismer::engine
