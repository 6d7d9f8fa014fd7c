// Data-parallel training: two Gloo ranks (threads of this process, rendezvous through a FileStore) with batches
// of B end with the parameters one process gets with batches of 2B, for every sharding mode; the checkpoint the
// sharded run writes (rank 0 only) loads in one process and equals the one-process model and optimiser state.
//
// Why this holds: the caption loss is a per-sample token sum *averaged over the batch* (loss_per_sample().mean(),
// as caption_task.cpp does), so the mean of two half-batch gradients is the full-batch gradient; a loss summed
// over the batch would need the gradients summed, not averaged. (The VQA loss averages over answer rows, whose
// count varies per question: there the ranks' average is close to, not equal to, one big batch - as with the
// original's DDP.)
//
// Tolerance: the model runs in float64 without dropout, so the runs differ only in the association order of
// sums - except where Prismer computes in float32 on purpose (its LayerNorm, CLIP's fp16-safe one, casts to
// float32 and back), which puts float32 rounding (~6e-8 relative) into both runs at different places. So: per
// tensor, max |difference| <= 1e-6 * max |reference| + 1e-12 for parameters and AdamW moments after 4 steps
// (observed: <= 4e-7 relative). The absolute 1e-12 is for tensors that are pure rounding noise: the attention
// key biases get a gradient that is zero in exact arithmetic (softmax ignores a per-row shift), ~1e-18 here, so
// their exp_avg_sq (~1e-35) has no meaningful relative error. Float32 throughout would not do: AdamW's
// normalised update turns rounding noise in a near-zero gradient element into up to lr per step.
// The ranks of one run agree bit for bit.
#include <prismer/engine/adamw.h>
#include <prismer/engine/batch_source.h>
#include <prismer/engine/checkpoint_store.h>
#include <prismer/engine/data_parallel.h>
#include <prismer/engine/process_group.h>
#include <prismer/engine/trainer.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <thread>

#include "fixtures.h"
#include "prismer_model.h"

using namespace prismer::backbone;
namespace fs = std::filesystem;
namespace engine = prismer::engine;

namespace {

constexpr double kTolerance = 1e-6;  // relative to each tensor's largest magnitude (see above)
constexpr double kNoise = 1e-12;     // absolute, for tensors of rounding noise
constexpr std::int64_t kSamples = 8, kHalfBatch = 2;

struct Data {
  torch::Tensor images, ids;
  Data() {
    torch::manual_seed(7);
    images = torch::randn({kSamples, 3, 32, 32}, torch::kFloat64);
    ids = torch::randint(4, 1000, {kSamples, 7}, torch::kLong);
    ids.select(1, 0).fill_(0);
    ids.select(1, 6).fill_(2);
  }
};

// Fixed batches of sample indices, the same every epoch: rank r of w takes the r-th of w slices of each full batch.
class SliceBatches : public engine::BatchSource {
 public:
  SliceBatches(const Data& data, int rank, int world) : data_(data) {
    const std::int64_t full = kHalfBatch * 2, part = full / world;
    for (std::int64_t start = 0; start + full <= kSamples; start += full) batches_.push_back(start + rank * part);
    part_ = part;
  }
  std::size_t batches_per_epoch() const override { return batches_.size(); }
  void start_epoch(std::int64_t) override { cursor_ = 0; }
  bool next(prismer::Batch& b) override {
    if (cursor_ == batches_.size()) return false;
    const auto start = batches_[cursor_++];
    b.inputs.rgb = data_.images.slice(0, start, start + part_);
    b.inputs.experts["ids"] = data_.ids.slice(0, start, start + part_);
    for (std::int64_t i = start; i < start + part_; ++i) {
      b.samples.emplace_back();
      b.samples.back().id = "sample" + std::to_string(i);
    }
    return true;
  }

 private:
  const Data& data_;
  std::vector<std::int64_t> batches_;
  std::int64_t part_ = 0;
  std::size_t cursor_ = 0;
};

PrismerConfig tiny_config() {
  PrismerConfig c = PrismerConfig::preset("tiny");
  c.image_resolution = 32;
  c.roberta.hidden_dropout_prob = 0.0;  // half batches must see what the full batch sees
  c.roberta.attention_probs_dropout_prob = 0.0;
  c.freeze = "freeze_vision";  // frozen parameters: neither reduced nor sharded
  return c;
}

PrismerModel make_model(const prismer::TensorMap& initial) {
  PrismerModel m(tiny_config());
  m->to(torch::kFloat64);
  if (!initial.empty()) engine::load_module_state(*m, initial, "initial");
  return m;
}

engine::LossFn caption_loss(PrismerModel& model) {
  return [&model](const prismer::Batch& b) {
    prismer::ExpertInputs in;
    in.rgb = b.inputs.rgb;
    const auto ids = b.inputs.experts.at("ids");
    auto logits = model->decode(ids, torch::ones_like(ids), model->encode(in));
    return model->loss_per_sample(logits, ids).mean();
  };
}

engine::TrainerOptions options_for(const fs::path& out) {
  engine::TrainerOptions o;
  o.max_epoch = 2;
  o.schedule.kind = "cosine_step";
  o.schedule.init_lr = 1e-3;
  o.adamw.weight_decay = 0.05;
  o.output = out.string();
  o.show_progress = false;
  return o;
}

prismer::TensorMap snapshot(const prismer::TensorMap& m) {
  prismer::TensorMap out;
  for (const auto& [k, t] : m) out.emplace_back(k, t.clone());
  return out;
}

// max over same-named entries of max |a - b| / max |b| (exactly 0 when equal), ignoring entries whose difference
// is below kNoise; throws when the keys differ
double max_diff(const prismer::TensorMap& a, const prismer::TensorMap& b) {
  if (a.size() != b.size()) throw std::runtime_error("different key counts: " + std::to_string(a.size()) + " vs " + std::to_string(b.size()));
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first) throw std::runtime_error("key " + a[i].first + " vs " + b[i].first);
    if (a[i].second.sizes() != b[i].second.sizes()) throw std::runtime_error("shape of " + a[i].first);
    if (a[i].second.numel() == 0) continue;
    const auto x = a[i].second.to(torch::kFloat64), y = b[i].second.to(torch::kFloat64);
    const double err = (x - y).abs().max().item<double>();
    if (err > kNoise) worst = std::max(worst, err / std::max(y.abs().max().item<double>(), 1e-30));
  }
  return worst;
}

bool identical(const prismer::TensorMap& a, const prismer::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || !a[i].second.equal(b[i].second)) return false;
  return true;
}

struct RankResult {
  prismer::TensorMap model, optimizer;  // optimizer: the gathered full state (rank 0)
  engine::ShardFootprint footprint;     // after the last step, before the epoch-end gather
  std::int64_t state_elements = 0;      // AdamW moments this rank holds
  double metric = 0;
  double loss = 0;
};

}  // namespace

TEST_CASE("two data-parallel ranks with batch B train like one process with batch 2B, in every sharding mode") {
  torch::set_num_threads(1);
  const fs::path root = fs::temp_directory_path() / ("prismer_dist_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const Data data;
  torch::manual_seed(1);
  const auto initial = snapshot(engine::module_state_dict(*make_model({})));

  // the reference: one process, batches of 2B
  PrismerModel ref = make_model(initial);
  SliceBatches ref_batches(data, 0, 1);
  engine::Trainer ref_trainer(*ref, options_for(root / "single"));
  const auto ref_reports = ref_trainer.fit(ref_batches, caption_loss(ref));
  const auto ref_model = snapshot(engine::module_state_dict(*ref));
  const auto ref_opt = snapshot(ref_trainer.optimizer().state_dict());
  std::int64_t trainable_elements = 0;
  for (const auto& [n, p] : engine::trainable_parameters(*ref)) trainable_elements += p.numel();
  std::int64_t frozen_elements = 0;
  for (const auto& p : ref->parameters()) frozen_elements += p.requires_grad() ? 0 : p.numel();
  REQUIRE(frozen_elements > 0);  // freeze_vision leaves parameters out of the data-parallel machinery

  for (const engine::Sharding mode : {engine::Sharding::none, engine::Sharding::shard_grad_op, engine::Sharding::full_shard}) {
    const std::string name = engine::to_string(mode);
    CAPTURE(name);
    const fs::path out = root / name;
    const std::string store = (root / (name + ".store")).string();
    std::vector<RankResult> results(2);
    std::vector<std::exception_ptr> errors(2);
    auto rank_main = [&](int rank) {
      try {
        auto group = engine::ProcessGroup::connect_file(store, rank, 2, std::chrono::seconds(60));
        engine::DataParallelOptions dpo;
        dpo.sharding = mode;
        dpo.bucket_mb = 0.05;  // several buckets even for the tiny model
        auto dp = std::make_shared<engine::DataParallel>(group, dpo);
        // rank 1 starts from other weights: the broadcast from rank 0 must replace them
        PrismerModel model = make_model(rank == 0 ? initial : prismer::TensorMap{});
        SliceBatches batches(data, rank, 2);
        auto opts = options_for(out);
        opts.parallel = dp;
        opts.metric = "score";
        engine::Trainer trainer(*model, opts);
        RankResult& r = results[static_cast<std::size_t>(rank)];
        trainer.set_step_hook([&](const engine::StepInfo&) {
          r.footprint = dp->footprint();
          r.state_elements = 0;
          for (const auto& [k, t] : trainer.optimizer().state_dict())
            if (k.find(".exp_avg") != std::string::npos) r.state_elements += t.numel();
        });
        // each rank reports another value: rank 0's must win everywhere
        trainer.set_evaluator([rank](std::int64_t epoch) {
          return prismer::Metrics{{"score", static_cast<double>(10 * rank + epoch)}};
        });
        const auto reports = trainer.fit(batches, caption_loss(model));
        r.metric = reports.back().metrics.at("score");
        r.loss = reports.back().train_loss;
        r.model = snapshot(engine::module_state_dict(*model));
        r.optimizer = dp->full_optimizer_state(trainer.optimizer());
      } catch (...) {
        errors[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    };
    std::thread t1(rank_main, 1);
    rank_main(0);
    t1.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);

    std::cout << "  " << name << ":";
    // the ranks agree exactly, and with the one-process run within the tolerance
    CHECK(identical(results[0].model, results[1].model));
    const double model_err = max_diff(results[0].model, ref_model);
    const double opt_err = max_diff(results[0].optimizer, ref_opt);
    std::cout << " parameters max rel err " << model_err << ", optimiser state " << opt_err;
    CHECK(model_err <= kTolerance);
    CHECK(opt_err <= kTolerance);
    CHECK(results[1].optimizer.empty());
    CHECK(results[0].metric == 1.0);
    CHECK(results[1].metric == 1.0);
    CHECK(results[0].loss == doctest::Approx(ref_reports.back().train_loss).epsilon(kTolerance));

    // what each rank holds between steps
    for (int r = 0; r < 2; ++r) {
      const auto& f = results[static_cast<std::size_t>(r)].footprint;
      CHECK(f.total == trainable_elements);
      const auto state = results[static_cast<std::size_t>(r)].state_elements;
      std::cout << " | rank " << r << ": params " << f.parameters << ", grads " << f.gradients << ", moments " << state;
      if (mode == engine::Sharding::none) {
        CHECK(f.parameters == f.total);
        CHECK(state == 2 * f.total);
      } else {
        CHECK(f.gradients < f.total);
        CHECK(state < 2 * f.total);
        CHECK(f.parameters == (mode == engine::Sharding::full_shard ? f.gradients : f.total));
      }
    }
    std::cout << " (of " << trainable_elements << ")\n";
    if (mode != engine::Sharding::none) {
      CHECK(results[0].footprint.gradients + results[1].footprint.gradients == trainable_elements);
      CHECK(results[0].state_elements + results[1].state_elements == 2 * trainable_elements);
    }

    // rank 0's checkpoint is the single-process format: it loads in one process and equals the reference
    PrismerModel loaded = make_model({});
    engine::AdamW opt(engine::trainable_parameters(*loaded), {});
    engine::GradScaler scaler;
    engine::TrainProgress progress;
    engine::CheckpointStore(out).load_last(*loaded, opt, scaler, progress);
    CHECK(progress.epochs_done == 2);
    CHECK(progress.global_step == 4);
    const double ckpt_err = max_diff(engine::module_state_dict(*loaded), ref_model);
    const double ckpt_opt_err = max_diff(opt.state_dict(), ref_opt);
    std::cout << "    checkpoint in one process: parameters max rel err " << ckpt_err << ", optimiser state " << ckpt_opt_err << "\n";
    CHECK(ckpt_err <= kTolerance);
    CHECK(ckpt_opt_err <= kTolerance);
    CHECK(identical(engine::module_state_dict(*loaded), results[0].model));
    CHECK(fs::exists(out / "pytorch_model.bin"));
  }
  fs::remove_all(root);
}

TEST_CASE("the process group setup reads torchrun's and SLURM's environment") {
  const char* names[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"};
  for (const char* n : names) ::unsetenv(n);
  auto e = engine::DistEnv::from_environment();
  CHECK(e.world_size == 1);
  CHECK_FALSE(e.distributed());
  ::setenv("SLURM_PROCID", "3", 1);
  ::setenv("SLURM_NTASKS", "4", 1);
  ::setenv("SLURM_LOCALID", "1", 1);
  ::setenv("MASTER_ADDR", "node7", 1);
  e = engine::DistEnv::from_environment();
  CHECK(e.rank == 3);
  CHECK(e.world_size == 4);
  CHECK(e.local_rank == 1);
  CHECK(e.master_addr == "node7");
  ::setenv("RANK", "1", 1);  // torchrun's variables win
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("MASTER_PORT", "29611", 1);
  e = engine::DistEnv::from_environment();
  CHECK(e.rank == 1);
  CHECK(e.world_size == 2);
  CHECK(e.local_rank == 1);
  CHECK(e.master_port == 29611);
  ::setenv("RANK", "2", 1);
  CHECK_THROWS_WITH_AS(engine::DistEnv::from_environment(), doctest::Contains("outside the world"), std::runtime_error);
  ::setenv("RANK", "x", 1);
  CHECK_THROWS_WITH_AS(engine::DistEnv::from_environment(), doctest::Contains("RANK='x'"), std::runtime_error);
  for (const char* n : names) ::unsetenv(n);
  CHECK(engine::parse_sharding("FULL_SHARD") == engine::Sharding::full_shard);
  CHECK_THROWS_AS(engine::parse_sharding("zero9"), std::invalid_argument);
}
