// Training checkpoints on disk.
//
//   <output>/last/            the state after the last complete epoch, replaced whole (written as last.tmp,
//     pytorch_model.bin       then renamed): the model (torch.save zip of the state dict, the official format),
//     optimizer.pt            the AdamW state, the RNG states and, written last, state.json (epochs done,
//     rng.pt                  global step, best metric, loss scale). `resume: true` continues from it.
//     state.json
//   <output>/pytorch_model.bin  the best model by the configured metric (the last one when there is none), as
//   <output>/model.safetensors  the original keeps it and/or as safetensors (BestFormats); best.json names its
//   <output>/best.json          epoch and metric.
#pragma once

#include <prismer/engine/adamw.h>
#include <prismer/engine/precision.h>

#include <torch/nn/module.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace prismer::engine {

/// Counters a run carries across epochs.
struct TrainProgress {
  std::int64_t epochs_done = 0;   ///< complete epochs
  std::int64_t global_step = 0;   ///< optimiser steps taken
  bool has_best = false;
  double best_value = 0.0;
  std::int64_t best_epoch = -1;
  std::string metric;             ///< the metric that selects the best model (empty: none)
  double last_train_loss = 0.0;
};

/// The module's state dict in Python's order (per module: parameters, buffers, then children), tied tensors under
/// each of their names, on the CPU (views of the live tensors for a CPU model: clone to keep a snapshot).
TensorMap module_state_dict(const torch::nn::Module& module);
/// Copies a state dict into `module` by name; every key must match (missing, unexpected and mis-shaped keys are
/// reported together, naming `source`).
void load_module_state(torch::nn::Module& module, const TensorMap& state, const std::string& source);

/// The files the best model is written as.
struct BestFormats {
  bool torch = true;         ///< pytorch_model.bin, torch.save zip (Python torch.load reads it)
  bool safetensors = false;  ///< model.safetensors
};

class CheckpointStore {
 public:
  explicit CheckpointStore(std::filesystem::path output);
  const std::filesystem::path& output() const { return output_; }

  /// Writes <output>/last atomically. `config` (any text, e.g. the pipeline YAML) is stored beside it.
  void save_last(const torch::nn::Module& model, const AdamW& optimizer, const GradScaler& scaler,
                 const TrainProgress& progress, const std::string& config = {}) const;
  /// The same from an optimiser state already in AdamW::state_dict()'s format (a sharded run gathers it first).
  void save_last(const torch::nn::Module& model, const TensorMap& optimizer_state, double lr, const GradScaler& scaler,
                 const TrainProgress& progress, const std::string& config = {}) const;
  /// True when a complete checkpoint exists.
  bool has_last() const;
  /// Restores model, optimiser, scaler, progress and the torch RNG states from the last complete checkpoint.
  /// Throws std::runtime_error naming the file when it is damaged or does not fit the model.
  void load_last(torch::nn::Module& model, AdamW& optimizer, GradScaler& scaler, TrainProgress& progress) const;
  /// Writes the best model in each of `formats` and best.json (each atomically); a format not asked for is removed
  /// so that no file of an older best model is left beside the new one.
  void save_best(const torch::nn::Module& model, const TrainProgress& progress, BestFormats formats = {}) const;

 private:
  std::filesystem::path complete_dir() const;  // last, or last.old after a crash between the two renames
  std::filesystem::path output_;
};

}  // namespace prismer::engine
