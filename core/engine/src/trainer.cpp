#include <prismer/engine/trainer.h>

#include <prismer/engine/data_parallel.h>

#include <prismer/core/progress.h>
#include <prismer/log.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <stdexcept>

namespace prismer::engine {

Trainer::Trainer(torch::nn::Module& model, TrainerOptions options)
    : model_(model), options_(std::move(options)), scaler_(options_.precision == Precision::fp16) {
  options_.schedule.validate();
  if (options_.max_epoch < 1) throw std::invalid_argument("max_epoch must be >= 1");
  if (options_.accumulate < 1) throw std::invalid_argument("accumulate must be >= 1");
  if (options_.clip_grad_norm < 0) throw std::invalid_argument("clip_grad_norm must be >= 0");
  auto params = trainable_parameters(model_);
  if (params.empty()) throw std::invalid_argument("the model has no trainable parameters (check the freeze mode)");
  cuda_ = params.front().second.is_cuda();
  AdamWOptions o = options_.adamw;
  o.lr = options_.schedule.init_lr;
  optimizer_ = std::make_unique<AdamW>(std::move(params), o);
  progress_.metric = options_.metric;
  if (!options_.output.empty()) store_.emplace(options_.output);
  if (options_.resume && store_ && store_->has_last()) {
    store_->load_last(model_, *optimizer_, scaler_, progress_);
    progress_.metric = options_.metric;
    log::info("resumed from {}/last: {} epoch(s) done, {} step(s)", options_.output, progress_.epochs_done,
              progress_.global_step);
  } else if (options_.resume) {
    log::info("resume: no checkpoint in '{}' yet, starting from epoch 0", options_.output);
  }
  if (auto& dp = options_.parallel) {  // after a resume: every rank loaded the full state, now keep the shards
    dp->attach(model_, optimizer_->parameters());
    dp->shard_optimizer_state(*optimizer_);
  }
}

bool Trainer::step(const std::vector<torch::Tensor>& params) {
  DataParallel* dp = options_.parallel.get();
  if (dp) dp->reduce_gradients();  // every rank then holds the same averaged gradients: same finiteness, same clip
  const bool finite = scaler_.unscale(params);
  if (finite) {
    if (options_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, options_.clip_grad_norm);
    if (dp) dp->before_step();
    optimizer_->step();
    if (dp) dp->after_step();
  }
  scaler_.update(finite);
  return finite;
}

void Trainer::save_last() {
  DataParallel* dp = options_.parallel.get();
  if (!dp) {
    if (store_) store_->save_last(model_, *optimizer_, scaler_, progress_, options_.config_text);
    return;
  }
  if (!store_) return;
  const TensorMap state = dp->full_optimizer_state(*optimizer_);  // collective
  if (dp->is_root()) store_->save_last(model_, state, optimizer_->lr(), scaler_, progress_, options_.config_text);
  dp->group().barrier();  // no rank runs ahead of a checkpoint it might be asked to resume from
}

std::vector<EpochReport> Trainer::fit(BatchSource& data, const LossFn& loss_fn) {
  std::vector<EpochReport> reports;
  const auto batches = static_cast<std::int64_t>(data.batches_per_epoch());
  if (batches == 0) throw std::runtime_error("the training data yields no batch (fewer samples than batch_size?)");
  const std::int64_t steps_per_epoch = (batches + options_.accumulate - 1) / options_.accumulate;
  std::vector<torch::Tensor> params;
  for (const auto& p : optimizer_->parameters()) params.push_back(p.second);

  for (std::int64_t epoch = progress_.epochs_done; epoch < options_.max_epoch; ++epoch) {
    model_.train();
    data.start_epoch(epoch);
    std::unique_ptr<Progress> bar;
    if (options_.show_progress)
      bar = std::make_unique<Progress>("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options_.max_epoch),
                                       static_cast<std::size_t>(batches), "batches");
    double loss_sum = 0.0;
    std::int64_t loss_count = 0, step_in_epoch = 0, in_group = 0;
    std::size_t samples = 0;
    const auto start = std::chrono::steady_clock::now();
    Batch batch;
    std::int64_t index = 0;
    optimizer_->zero_grad();
    while (data.next(batch)) {
      // the group this batch belongs to: `accumulate` batches, the epoch's last group may be shorter
      const std::int64_t group_size = std::min(options_.accumulate, batches - (index / options_.accumulate) * options_.accumulate);
      if (in_group == 0 && options_.parallel) options_.parallel->gather_parameters();
      if (in_group == 0) optimizer_->set_lr(options_.schedule.lr_at(epoch, step_in_epoch, steps_per_epoch, options_.max_epoch));
      torch::Tensor loss;
      {
        AutocastGuard autocast(options_.precision, cuda_);
        loss = loss_fn(batch);
      }
      if (!loss.defined() || loss.dim() != 0) throw std::runtime_error("the task's loss must be a scalar tensor");
      const double value = loss.item<double>();
      if (!std::isfinite(value) && options_.precision != Precision::fp16)
        throw std::runtime_error("the loss is " + std::to_string(value) + " at epoch " + std::to_string(epoch) +
                                 ", batch " + std::to_string(index));
      scaler_.scale(group_size > 1 ? loss / static_cast<double>(group_size) : loss).backward();
      loss_sum += value;
      ++loss_count;
      samples += batch.samples.empty() ? static_cast<std::size_t>(batch.inputs.rgb.defined() ? batch.inputs.rgb.size(0) : 0)
                                       : batch.samples.size();
      ++index;
      if (++in_group == group_size) {
        StepInfo info{epoch, step_in_epoch, progress_.global_step, value, optimizer_->lr(), false};
        info.skipped = !step(params);
        optimizer_->zero_grad();
        in_group = 0;
        ++step_in_epoch;
        ++progress_.global_step;
        if (bar) {
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          char note[96];
          std::snprintf(note, sizeof note, "loss %.4f  lr %.3g  %.1f samples/s", loss_sum / static_cast<double>(loss_count),
                        optimizer_->lr(), secs > 0 ? static_cast<double>(samples) / secs : 0.0);
          bar->set_note(note);
        }
        if (hook_) hook_(info);
      }
      if (bar) bar->advance(1);
      batch = Batch{};
    }
    if (bar) bar->finish();

    EpochReport report;
    report.epoch = epoch;
    report.train_loss = loss_count ? loss_sum / static_cast<double>(loss_count) : 0.0;
    if (options_.parallel) {
      report.train_loss = options_.parallel->mean(report.train_loss);
      options_.parallel->gather_parameters();  // evaluation and checkpoints see the whole model
    }
    progress_.last_train_loss = report.train_loss;
    progress_.epochs_done = epoch + 1;
    if (evaluate_) {
      model_.eval();
      report.metrics = evaluate_(epoch);
      if (options_.parallel) report.metrics = options_.parallel->broadcast_metrics(report.metrics);
    }
    std::string metrics_text;
    for (const auto& [k, v] : report.metrics) metrics_text += fmt::format("  {} {:.4f}", k, v);
    log::info("epoch {:03d} | loss: {:.4f} | lr {:.3g}{}", epoch, report.train_loss, optimizer_->lr(), metrics_text);

    // the best model: by the metric when there is one (the caption script keeps the best CIDEr), else the last
    if (!options_.metric.empty()) {
      auto it = report.metrics.find(options_.metric);
      if (it == report.metrics.end())
        throw std::runtime_error("metric '" + options_.metric + "' is not among the evaluation's metrics");
      const double v = it->second;
      report.best = !progress_.has_best || (options_.higher_is_better ? v > progress_.best_value : v < progress_.best_value);
    } else {
      report.best = true;
    }
    if (report.best) {
      progress_.has_best = true;
      progress_.best_epoch = epoch;
      if (!options_.metric.empty()) progress_.best_value = report.metrics.at(options_.metric);
      if (store_ && (!options_.parallel || options_.parallel->is_root())) store_->save_best(model_, progress_, {options_.save_torch, options_.save_safetensors});
    }
    save_last();
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace prismer::engine
