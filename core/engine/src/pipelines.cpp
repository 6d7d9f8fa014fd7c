// `pipeline: train` and `pipeline: evaluate`.
//
// Batches come from the core/data loader (worker threads: image decode, expert labels from `label_root`, the
// train-time Transform for training, expert encoding), in the backbone's expert order.
#include "json_file.h"

#include <prismer/engine/pipelines.h>

#include <prismer/engine/batch_source.h>
#include <prismer/engine/data_parallel.h>
#include <prismer/engine/process_group.h>
#include <prismer/engine/trainer.h>

#include <prismer/backbone.h>
#include <prismer/config.h>
#include <prismer/core/log_file.h>
#include <prismer/core/pipeline.h>
#include <prismer/core/plugin_registry.h>
#include <prismer/core/progress.h>
#include <prismer/data/loader.h>
#include <prismer/dataset.h>
#include <prismer/device.h>
#include <prismer/log.h>
#include <prismer/task.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

namespace prismer::engine {

namespace {

namespace fs = std::filesystem;

constexpr const char* kTrainSchema = R"(
pipeline: train
plugin_paths: []
log_level: info
log_file: ""             # default: <output>/train.log
threads: 0               # torch threads; 0 = every core
output: results/train    # checkpoints (last/), best model (pytorch_model.bin), results, log
resume: false            # continue from <output>/last
seed: 42                 # torch.manual_seed and the batch order
epochs: 1                # max_epoch
batch_size: 4            # batch_size_train
accumulate: 1            # batches per optimiser step
clip_grad_norm: 0.0      # > 0: clip the global gradient norm
precision: fp32          # fp32 | bf16 | fp16 (autocast; fp16 needs CUDA)
schedule: cosine_step    # cosine_step (caption) | cosine_epoch (vqa, pretrain) | constant
init_lr: 5.0e-5
min_lr: 0.0
warmup_lr: 1.0e-6
warmup_steps: 0          # pretrain: 2000
weight_decay: 0.05
betas: [0.9, 0.999]
eps: 1.0e-8
image_resolution: 0      # rgb size; 0 = the backbone's image_resolution
label_root: ""           # label_path: <label_root>/<expert>/<dataset>/<name>.png (needed when the backbone reads experts)
features_dir: ""         # CLIP feature files for seg_*, obj_detection, ocr_detection
loader_threads: 2        # data loader worker threads (0 = in the training thread)
augment: true            # the original's train-time Transform (crop, flip, RandAugment); false = eval resize
crop_scale: [0.5, 1.0]   # RandomResizedCrop scale ([0.5, 1.5] for pre-training)
metric: ""               # evaluation metric keeping the best model, e.g. CIDEr; empty = keep the last
save_formats: [torch, safetensors]  # the best model as pytorch_model.bin (torch.save) and/or model.safetensors
eval_batch_size: 8
sharding: none           # several processes (prismer launch, torchrun, srun): none | shard_grad_op | full_shard
bucket_mb: 25.0          # gradient all-reduce / parameter broadcast bucket size (MiB)
dataset: {}              # {plugin: NAME, ...}: training samples
eval_dataset: {}         # optional: evaluated after every epoch
backbone: {}
task: {}
)";

constexpr const char* kEvaluateSchema = R"(
pipeline: evaluate
plugin_paths: []
log_level: info
log_file: ""
threads: 0
output: results/evaluate # results.json and metrics.json
score: true              # false: predictions only (images without references, as in the demo)
batch_size: 8
image_resolution: 0
label_root: ""
features_dir: ""
loader_threads: 2
dataset: {}
backbone: {}
task: {}
)";

// the keys every pipeline shares (as core's labels pipeline applies them)
void apply_common_settings(const Config& config) {
  try {
    log::set_level(config.get<std::string>("log_level"));
  } catch (const std::invalid_argument& e) {
    config["log_level"].fail(e.what());
  }
  int threads = config.get<int>("threads");
  if (threads < 0) config["threads"].fail("must be 0 (all cores) or a positive count");
  set_compute_threads(threads);  // 0 = every core (Debian's LibTorch starts with one thread)
}

template <typename T>
std::unique_ptr<T> create(PluginRegistry& registry, const Config& cfg, const char* kind) {
  if (!cfg.is_map() || !cfg.has("plugin")) cfg.fail(std::string("missing 'plugin:' naming the ") + kind + " plugin");
  try {
    return registry.create_as<T>(registry.require(cfg.get<std::string>("plugin"), kind), cfg);
  } catch (const PluginError& e) {
    cfg["plugin"].fail(e.what());
  }
}

int resolution_of(const Config& config, PluginRegistry& registry) {
  const int r = config.get<int>("image_resolution");
  if (r < 0) config["image_resolution"].fail("must be >= 0");
  if (r > 0) return r;
  const Config b = config["backbone"];
  if (b.has("image_resolution")) return b.get<int>("image_resolution");
  const Config d = PluginRegistry::defaults(registry.require(b.get<std::string>("plugin"), "backbone"));
  return d.has("image_resolution") ? d.get<int>("image_resolution") : 224;
}

/// Loader settings shared by the pipelines: the backbone's experts, labels, features, resolution, threads.
data::LoaderOptions loader_options(const Config& config, const Backbone& backbone, int resolution) {
  data::LoaderOptions o;
  for (const auto& e : backbone.experts()) o.item.experts.push_back(e.name);
  o.item.label_root = config.get<std::string>("label_root");
  o.item.resolution = resolution;
  o.features_dir = config.get<std::string>("features_dir");
  o.threads = config.get<int>("loader_threads");
  if (o.threads < 0) config["loader_threads"].fail("must be >= 0");
  if (!o.item.experts.empty() && o.item.label_root.empty()) {
    std::string names;
    for (const auto& e : o.item.experts) names += (names.empty() ? "" : ", ") + e;
    config["label_root"].fail("the backbone reads experts (" + names + "): set the folder of their labels");
  }
  return o;
}

/// Predictions of the task over every batch of `data` (the batches of `dataset`), with a progress line.
std::vector<Prediction> predict_all(Backbone& backbone, Task& task, const Dataset& dataset, BatchSource& data,
                                    const std::string& label) {
  task.prepare_predictions(dataset);
  torch::NoGradGuard no_grad;
  backbone.module().eval();
  std::vector<Prediction> out;
  data.start_epoch(0);
  Progress bar(label, data.batches_per_epoch(), "batches");
  Batch batch;
  while (data.next(batch)) {
    auto p = task.predict(backbone, batch);
    out.insert(out.end(), p.begin(), p.end());
    bar.advance(1);
  }
  bar.finish();
  return out;
}

/// The run's log file (`log_file:`, else <output>/<name>), written until the run returns (several runs in one
/// process — the quickstart's stages — each keep their own).
std::unique_ptr<log::ScopedLogFile> open_run_log(const Config& config, const fs::path& output, const std::string& name) {
  fs::path path = config.get<std::string>("log_file");
  if (path.empty()) path = output / name;
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  return std::make_unique<log::ScopedLogFile>(path.string());
}

/// This process among the run's: torchrun's / SLURM's environment, `prismer run --rank/--world-size` over it.
DistEnv dist_env(const RunOptions& options) {
  DistEnv env = DistEnv::from_environment();
  if (options.world_size > 0) env.world_size = options.world_size;
  if (options.rank >= 0) env.rank = options.rank;
  if (env.rank >= env.world_size)
    throw std::runtime_error("rank " + std::to_string(env.rank) + " is outside the world of " + std::to_string(env.world_size));
  return env;
}

/// Every rank's predictions on every rank, in the unsharded order: the eval loader gives rank r the samples
/// r, r+W, r+2W, ... (DistributedSampler, padded by repeating the first samples), so they are interleaved back
/// and the padding's repeats dropped.
std::vector<Prediction> gather_predictions(ProcessGroup& group, const std::vector<Prediction>& mine) {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& p : mine) doc.push_back({p.id, p.numeric_id, p.text, p.score});
  std::vector<std::vector<Prediction>> all;
  std::size_t longest = 0;
  for (const auto& bytes : group.all_gather_bytes(doc.dump())) {
    all.emplace_back();
    for (const auto& j : nlohmann::json::parse(bytes))
      all.back().push_back({j[0].get<std::string>(), j[1].get<std::int64_t>(), j[2].get<std::string>(), j[3].get<double>()});
    longest = std::max(longest, all.back().size());
  }
  std::vector<Prediction> out;
  std::set<std::pair<std::string, std::int64_t>> seen;
  for (std::size_t k = 0; k < longest; ++k)
    for (const auto& rank : all)
      if (k < rank.size() && seen.insert({rank[k].id, rank[k].numeric_id}).second) out.push_back(rank[k]);
  return out;
}

int run_train(const Config& raw, PluginRegistry& registry, const RunOptions& options) {
  const Config config = raw.with_defaults(Config::parse_string(kTrainSchema, "train pipeline schema"));
  apply_common_settings(config);
  const fs::path output = config.get<std::string>("output");

  TrainerOptions t;
  t.max_epoch = config.get<std::int64_t>("epochs");
  if (t.max_epoch < 1) config["epochs"].fail("must be >= 1");
  t.accumulate = config.get<std::int64_t>("accumulate");
  if (t.accumulate < 1) config["accumulate"].fail("must be >= 1");
  t.clip_grad_norm = config.get<double>("clip_grad_norm");
  if (t.clip_grad_norm < 0) config["clip_grad_norm"].fail("must be >= 0");
  try {
    t.precision = parse_precision(config.get<std::string>("precision"));
  } catch (const std::invalid_argument& e) {
    config["precision"].fail(e.what());
  }
  t.schedule.kind = config.get<std::string>("schedule");
  t.schedule.init_lr = config.get<double>("init_lr");
  t.schedule.min_lr = config.get<double>("min_lr");
  t.schedule.warmup_lr = config.get<double>("warmup_lr");
  t.schedule.warmup_steps = config.get<std::int64_t>("warmup_steps");
  try {
    t.schedule.validate();
  } catch (const std::invalid_argument& e) {
    config["schedule"].fail(e.what());
  }
  t.adamw.weight_decay = config.get<double>("weight_decay");
  const auto betas = config["betas"].as<std::vector<double>>();
  if (betas.size() != 2) config["betas"].fail("expected two values [beta1, beta2]");
  t.adamw.beta1 = betas[0];
  t.adamw.beta2 = betas[1];
  t.adamw.eps = config.get<double>("eps");
  t.output = output.string();
  t.resume = config.get<bool>("resume");
  t.metric = config.get<std::string>("metric");
  t.save_torch = t.save_safetensors = false;
  for (const auto& format : config["save_formats"].as<std::vector<std::string>>()) {
    if (format == "torch") t.save_torch = true;
    else if (format == "safetensors") t.save_safetensors = true;
    else config["save_formats"].fail("unknown format '" + format + "' (expected torch, safetensors)");
  }
  if (!t.save_torch && !t.save_safetensors) config["save_formats"].fail("needs at least one of torch, safetensors");
  t.config_text = config.dump();
  const auto batch_size = config.get<std::int64_t>("batch_size");
  if (batch_size < 1) config["batch_size"].fail("must be positive");
  const auto eval_batch = config.get<std::int64_t>("eval_batch_size");
  if (eval_batch < 1) config["eval_batch_size"].fail("must be positive");
  const auto seed = static_cast<std::uint64_t>(config.get<std::int64_t>("seed"));
  DataParallelOptions dpo;
  try {
    dpo.sharding = parse_sharding(config.get<std::string>("sharding"));
  } catch (const std::invalid_argument& e) {
    config["sharding"].fail(e.what());
  }
  dpo.bucket_mb = config.get<double>("bucket_mb");
  if (dpo.bucket_mb <= 0) config["bucket_mb"].fail("must be positive");
  const DistEnv env = dist_env(options);

  // every component first: the whole pipeline is validated before any work
  auto dataset = create<Dataset>(registry, config["dataset"], "dataset");
  std::unique_ptr<Dataset> eval_dataset;
  const Config eval_cfg = config["eval_dataset"];
  if (eval_cfg.is_map() && eval_cfg.size() > 0) eval_dataset = create<Dataset>(registry, eval_cfg, "dataset");
  if (!t.metric.empty() && !eval_dataset) config["metric"].fail("a metric needs an eval_dataset to compute it on");
  if (env.distributed()) {  // one GPU per process on a node, as torchrun scripts do with set_device(LOCAL_RANK)
    const std::string device = config["backbone"].get<std::string>("device", "cpu");
    if (device == "cuda" || (device == "auto" && torch::cuda::is_available())) {
      Config c = config;
      c.set("backbone.device", "cuda:" + std::to_string(env.local_rank));
    }
  }
  torch::manual_seed(seed);  // the original seeds torch before building the model
  auto backbone = create<Backbone>(registry, config["backbone"], "backbone");
  auto task = create<Task>(registry, config["task"], "task");
  const int resolution = resolution_of(config, registry);
  data::LoaderOptions lo = loader_options(config, *backbone, resolution);
  lo.batch_size = static_cast<std::size_t>(batch_size);
  lo.shuffle = true;  // create_loader(train=True): shuffle, drop_last, the train-time Transform
  lo.drop_last = true;
  lo.seed = seed;
  lo.item.train = config.get<bool>("augment");
  const auto scale = config["crop_scale"].as<std::vector<double>>();
  if (scale.size() != 2 || scale[0] <= 0 || scale[0] > scale[1]) config["crop_scale"].fail("expected [min, max] with 0 < min <= max");
  lo.item.train_options.scale = {scale[0], scale[1]};
  data::LoaderOptions eo = loader_options(config, *backbone, resolution);
  eo.batch_size = static_cast<std::size_t>(eval_batch);
  lo.rank = eo.rank = env.rank;  // each rank its share of the samples (DistributedSampler)
  lo.world_size = eo.world_size = env.world_size;
  if (options.dry_run) {
    std::cout << "dry run: configuration is valid (" << dataset->size() << " training samples"
              << (eval_dataset ? ", " + std::to_string(eval_dataset->size()) + " evaluation samples" : std::string())
              << "), nothing was written\n";
    return 0;
  }
  const auto run_log = open_run_log(config, output, env.rank == 0 ? std::string("train.log") : "train.rank" + std::to_string(env.rank) + ".log");
  std::shared_ptr<DataParallel> parallel;
  if (env.distributed()) {
    const auto params = backbone->module().parameters();
    const torch::Device device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
    log::info("train: rank {} of {}, rendezvous {}:{}, {} backend, sharding {}", env.rank, env.world_size, env.master_addr,
              env.master_port, device.is_cuda() ? "NCCL" : "Gloo", to_string(dpo.sharding));
    parallel = std::make_shared<DataParallel>(ProcessGroup::connect(env, device), dpo);
    t.parallel = parallel;
    t.show_progress = env.rank == 0;
  }

  LoaderBatches train_batches(*dataset, lo);
  std::unique_ptr<LoaderBatches> eval_batches;
  if (eval_dataset) eval_batches = std::make_unique<LoaderBatches>(*eval_dataset, eo);

  log::info("train: {} samples, {} batches of {} per epoch, {} epoch(s), output {}", dataset->size(),
            train_batches.batches_per_epoch(), batch_size, t.max_epoch, output.string());
  Trainer trainer(backbone->module(), t);
  if (eval_batches) {
    trainer.set_evaluator([&](std::int64_t epoch) {
      auto predictions = predict_all(*backbone, *task, *eval_dataset, *eval_batches, "evaluate");
      if (parallel) {  // each rank predicted its share: rank 0 writes and scores them all (the trainer shares its metrics)
        predictions = gather_predictions(parallel->group(), predictions);
        if (!parallel->is_root()) return Metrics{};
      }
      task->write_results(predictions, (output / ("results_epoch" + std::to_string(epoch) + ".json")).string());
      return task->evaluate(predictions, *eval_dataset);
    });
  }
  Backbone& bb = *backbone;
  Task& tk = *task;
  const auto reports = trainer.fit(train_batches, [&](const Batch& b) { return tk.loss(bb, b); });
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& r : reports)
    summary.push_back({{"epoch", r.epoch}, {"train_loss", r.train_loss}, {"metrics", r.metrics}, {"best", r.best}});
  if (!reports.empty() && env.rank == 0) write_json(output / "train_summary.json", summary);
  log::info("train: done, {} step(s); best model (epoch {}) in {}{}{}", trainer.progress().global_step,
            trainer.progress().best_epoch, output.string(), t.save_torch ? " pytorch_model.bin" : "",
            t.save_safetensors ? " model.safetensors" : "");
  return 0;
}

int run_evaluate(const Config& raw, PluginRegistry& registry, const RunOptions& options) {
  const Config config = raw.with_defaults(Config::parse_string(kEvaluateSchema, "evaluate pipeline schema"));
  apply_common_settings(config);
  const fs::path output = config.get<std::string>("output");
  const auto batch_size = config.get<std::int64_t>("batch_size");
  if (batch_size < 1) config["batch_size"].fail("must be positive");
  auto dataset = create<Dataset>(registry, config["dataset"], "dataset");
  auto backbone = create<Backbone>(registry, config["backbone"], "backbone");
  auto task = create<Task>(registry, config["task"], "task");
  const int resolution = resolution_of(config, registry);
  data::LoaderOptions lo = loader_options(config, *backbone, resolution);
  lo.batch_size = static_cast<std::size_t>(batch_size);
  const DistEnv env = dist_env(options);
  lo.rank = env.rank;  // several processes: each predicts its share, rank 0 writes and scores them all
  lo.world_size = env.world_size;
  if (options.dry_run) {
    std::cout << "dry run: configuration is valid (" << dataset->size() << " samples), nothing was written\n";
    return 0;
  }
  const auto run_log = open_run_log(config, output, env.rank == 0 ? std::string("evaluate.log") : "evaluate.rank" + std::to_string(env.rank) + ".log");
  std::shared_ptr<ProcessGroup> group;
  if (env.distributed()) {
    const auto params = backbone->module().parameters();
    group = ProcessGroup::connect(env, params.empty() ? torch::Device(torch::kCPU) : params.front().device());
  }
  LoaderBatches batches(*dataset, lo);
  auto predictions = predict_all(*backbone, *task, *dataset, batches, "evaluate");
  if (group) {
    predictions = gather_predictions(*group, predictions);
    if (!group->is_root()) return 0;
  }
  task->write_results(predictions, (output / "results.json").string());
  if (!config.get<bool>("score")) {
    log::info("evaluate: {} predictions in {} (not scored)", predictions.size(), (output / "results.json").string());
    return 0;
  }
  const Metrics metrics = task->evaluate(predictions, *dataset);
  write_json(output / "metrics.json", nlohmann::json(metrics));
  for (const auto& [k, v] : metrics) std::cout << k << ": " << v << "\n";
  log::info("evaluate: {} predictions, results in {}", predictions.size(), (output / "results.json").string());
  return 0;
}

}  // namespace

void register_pipelines() {
  register_pipeline("train", run_train);
  register_pipeline("evaluate", run_evaluate);
}

}  // namespace prismer::engine
