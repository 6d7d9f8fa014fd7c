// Data-parallel training over a ProcessGroup, the part of accelerate's DDP / FSDP the original scripts use: every
// rank starts from rank 0's weights, trains on its share of the batches, and the gradients are averaged in
// buckets before each optimiser step, so W ranks with batches of B take the steps one process takes with
// batches of W*B (when the loss is a mean over the batch, as the caption loss is).
//
// `sharding` (the original's FSDP sharding_strategy) trades communication for memory:
//   none           every rank holds all parameters, gradients and optimiser state (DDP).
//   shard_grad_op  ZeRO-2: each rank owns a shard of the trainable parameters; after the gradient all-reduce it
//                  keeps only its shard's gradients, steps only its shard (so AdamW state exists for that shard
//                  only) and the owners broadcast their updated parameters.
//   full_shard     ZeRO-3: as shard_grad_op, and between steps a rank stores only its shard's parameters (the
//                  others are freed to zero-size tensors); they are gathered before the forward pass of a step
//                  and freed after it (here the whole model is gathered at once, not layer by layer: the same
//                  numbers, with the at-rest memory of ZeRO-3).
// Shards are whole parameters, assigned largest first to the least-loaded rank (as torch's
// ZeroRedundancyOptimizer does), so a shard's AdamW update is the single-process update op for op.
// Parameters that do not require grad (frozen experts and encoders: FSDP's ignored_modules) are neither reduced
// nor sharded; they are only broadcast from rank 0 at the start with the rest of the module state.
#pragma once

#include <prismer/engine/adamw.h>
#include <prismer/engine/process_group.h>
#include <prismer/task.h>

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prismer::engine {

enum class Sharding { none, shard_grad_op, full_shard };

/// "none" | "shard_grad_op" | "full_shard" (also NO_SHARD / SHARD_GRAD_OP / FULL_SHARD as FSDP spells them);
/// throws std::invalid_argument otherwise.
Sharding parse_sharding(const std::string& name);
std::string to_string(Sharding s);

struct DataParallelOptions {
  Sharding sharding = Sharding::none;
  double bucket_mb = 25.0;  ///< gradient all-reduce and parameter broadcast buckets (DDP's bucket_cap_mb)
};

/// What one rank holds of the trainable parameters (element counts), for the memory story and tests.
struct ShardFootprint {
  std::int64_t parameters = 0;  ///< elements of trainable parameters stored on this rank now
  std::int64_t gradients = 0;   ///< elements of defined gradients of trainable parameters
  std::int64_t total = 0;       ///< elements of all trainable parameters
};

/// The Trainer's strategy for several processes (TrainerOptions::parallel). The Trainer calls, per step:
/// gather_parameters() before the forward pass of a step's first batch, reduce_gradients() after the step's last
/// backward, before_step() / after_step() around the optimiser step; at an epoch's end gather_parameters()
/// before evaluating and checkpointing. Every call is collective: all ranks make it, in the same order.
class DataParallel {
 public:
  DataParallel(std::shared_ptr<ProcessGroup> group, DataParallelOptions options);

  ProcessGroup& group() { return *group_; }
  int rank() const { return group_->rank(); }
  int world_size() const { return group_->world_size(); }
  bool is_root() const { return group_->is_root(); }
  Sharding sharding() const { return options_.sharding; }

  /// Once, before training: broadcasts rank 0's parameters and buffers into `model`, assigns the shards of
  /// `trainable` and, with full_shard, frees the parameters other ranks own.
  void attach(torch::nn::Module& model, const std::vector<NamedParameter>& trainable);
  /// full_shard: every rank gets the full parameters from their owners (no-op when they are already here).
  void gather_parameters();
  /// Averages the gradients over the ranks, in buckets. A parameter with a gradient on some rank gets a zero
  /// gradient where it has none; one unused on every rank keeps no gradient (AdamW then skips it).
  void reduce_gradients();
  /// Sharded: drops the gradients of parameters other ranks own, so the optimiser steps this rank's shard only.
  void before_step();
  /// shard_grad_op: the owners broadcast their updated parameters; full_shard: frees the parameters others own.
  void after_step();

  /// Collective. The full optimiser state in the single-process AdamW::state_dict format (the one a one-process
  /// run loads) on rank 0; an empty map on the other ranks.
  TensorMap full_optimizer_state(const AdamW& optimizer);
  /// After every rank loaded a full optimiser state (resume): drops the entries of parameters others own.
  void shard_optimizer_state(AdamW& optimizer) const;
  /// Rank 0's metrics on every rank (the evaluator computes them on rank 0).
  Metrics broadcast_metrics(const Metrics& metrics);
  /// The mean of `value` over the ranks.
  double mean(double value);

  /// Owner rank of trainable parameter i (attach's order); -1 without sharding.
  int owner(std::size_t i) const;
  ShardFootprint footprint() const;

 private:
  struct Entry {
    torch::Tensor param;
    std::vector<std::int64_t> shape;
    int owner = -1;
  };
  // the owners' values of the entries `which` on every rank, bucketed; `allocate`: make storage first (freed ones)
  void broadcast_from_owners(bool allocate);
  void release();
  std::shared_ptr<ProcessGroup> group_;
  DataParallelOptions options_;
  std::vector<Entry> entries_;
  std::vector<std::string> names_;
  bool materialized_ = true;
};

}  // namespace prismer::engine
