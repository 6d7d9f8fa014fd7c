// Checkpoints and resume: a tiny Prismer trained for three epochs without interruption must end bit for bit where
// a run killed in the middle of the second epoch and resumed from its last complete checkpoint ends (dropout on,
// so the restored RNG state matters; shuffled batches, so the per-epoch order matters). Also: the best model by
// the evaluation metric, the files of the official format, optimiser-state round trips, the LR schedules.
#include <prismer/engine/adamw.h>
#include <prismer/engine/batch_source.h>
#include <prismer/engine/checkpoint_store.h>
#include <prismer/engine/lr_schedule.h>
#include <prismer/engine/trainer.h>

#include <prismer/dataset.h>

#include <filesystem>
#include <iostream>

#include "fixtures.h"
#include "prismer_model.h"

using namespace prismer::backbone;
namespace fs = std::filesystem;
namespace engine = prismer::engine;

namespace {

// Six synthetic samples: an image and a caption of word ids, made from a fixed seed.
class SyntheticCaptions : public prismer::Dataset {
 public:
  SyntheticCaptions() {
    torch::manual_seed(7);
    images_ = torch::randn({6, 3, 32, 32});
    ids_ = torch::randint(4, 1000, {6, 7}, torch::kLong);
    ids_.select(1, 0).fill_(0);
    ids_.select(1, 6).fill_(2);
  }
  std::size_t size() const override { return 6; }
  prismer::Sample sample(std::size_t i) const override {
    prismer::Sample s;
    s.id = "sample" + std::to_string(i);
    return s;
  }
  std::string label_subdir() const override { return "synthetic"; }
  torch::Tensor images_, ids_;
};

engine::Collate synthetic_collate(const SyntheticCaptions& data) {
  return [&data](const prismer::Dataset&, const std::vector<std::size_t>& idx, std::mt19937_64&) {
    prismer::Batch b;
    auto index = torch::tensor(std::vector<std::int64_t>(idx.begin(), idx.end()), torch::kLong);
    b.inputs.rgb = data.images_.index_select(0, index);
    b.inputs.experts["ids"] = data.ids_.index_select(0, index);  // carried to the loss function
    for (auto i : idx) b.samples.push_back(data.sample(i));
    return b;
  };
}

PrismerConfig tiny_config() {
  PrismerConfig c = PrismerConfig::preset("tiny");
  c.image_resolution = 32;
  c.roberta.hidden_dropout_prob = 0.1;
  c.roberta.attention_probs_dropout_prob = 0.1;
  c.freeze = "freeze_vision";
  return c;
}

engine::LossFn caption_loss(PrismerModel& model) {
  return [&model](const prismer::Batch& b) {
    prismer::ExpertInputs in;
    in.rgb = b.inputs.rgb;
    const auto ids = b.inputs.experts.at("ids");
    auto memory = model->encode(in);
    auto logits = model->decode(ids, torch::ones_like(ids), memory);
    return model->loss_per_sample(logits, ids).mean();
  };
}

engine::TrainerOptions options_for(const fs::path& out) {
  engine::TrainerOptions o;
  o.max_epoch = 3;
  o.schedule.kind = "cosine_step";
  o.schedule.init_lr = 1e-3;
  o.adamw.weight_decay = 0.05;
  o.output = out.string();
  o.metric = "score";
  o.show_progress = false;
  return o;
}

// an evaluation whose best epoch is the second
prismer::Metrics fake_eval(std::int64_t epoch) { return {{"score", epoch == 1 ? 3.0 : 1.0 + 0.5 * static_cast<double>(epoch)}}; }

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("simulated kill") {}
};

bool same_state(const prismer::TensorMap& a, const prismer::TensorMap& b, std::string& first_diff) {
  if (a.size() != b.size()) return first_diff = "different key counts", false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first) return first_diff = a[i].first + " vs " + b[i].first, false;
    if (!a[i].second.equal(b[i].second)) return first_diff = a[i].first, false;
  }
  return true;
}

}  // namespace

TEST_CASE("a run killed mid-epoch and resumed ends identical to an uninterrupted run") {
  torch::set_num_threads(1);
  const fs::path root = fs::temp_directory_path() / ("prismer_resume_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  SyntheticCaptions data;
  engine::DatasetBatchesOptions bo;
  bo.batch_size = 2;
  bo.shuffle = true;
  bo.seed = 11;

  torch::manual_seed(1);
  PrismerModel init_model(tiny_config());
  const auto initial = engine::module_state_dict(*init_model);

  // A: uninterrupted
  PrismerModel a(tiny_config());
  engine::load_module_state(*a, initial, "initial");
  torch::manual_seed(42);
  engine::DatasetBatches batches_a(data, synthetic_collate(data), bo);
  auto options_a = options_for(root / "a");
  options_a.save_safetensors = true;  // run A keeps its best model in both formats, B in torch.save only
  engine::Trainer ta(*a, options_a);
  prismer::TensorMap best_a;
  ta.set_evaluator([&](std::int64_t epoch) {
    if (epoch == 1)
      for (const auto& [k, t] : engine::module_state_dict(*a)) best_a.emplace_back(k, t.clone());  // a copy, not a view
    return fake_eval(epoch);
  });
  const auto reports = ta.fit(batches_a, caption_loss(a));
  REQUIRE(reports.size() == 3);
  CHECK(reports[1].best);
  CHECK_FALSE(reports[2].best);

  // B: killed after global step 4 (the second of three steps of epoch 1), then resumed in a "new process"
  PrismerModel b(tiny_config());
  engine::load_module_state(*b, initial, "initial");
  torch::manual_seed(42);
  {
    engine::DatasetBatches batches_b(data, synthetic_collate(data), bo);
    engine::Trainer tb(*b, options_for(root / "b"));
    tb.set_evaluator(fake_eval);
    tb.set_step_hook([](const engine::StepInfo& s) {
      if (s.global_step == 4) throw Interrupted();
    });
    CHECK_THROWS_AS(tb.fit(batches_b, caption_loss(b)), Interrupted);
  }
  fs::create_directories(root / "b" / "last.tmp");  // debris of a checkpoint that never completed
  torch::manual_seed(999);                          // a new process does not share the RNG state
  PrismerModel c(tiny_config());                    // other initial weights: the checkpoint must replace them
  engine::DatasetBatches batches_c(data, synthetic_collate(data), bo);
  auto opts = options_for(root / "b");
  opts.resume = true;
  engine::Trainer tc(*c, opts);
  CHECK(tc.progress().epochs_done == 1);
  CHECK(tc.progress().global_step == 3);
  tc.set_evaluator(fake_eval);
  const auto resumed = tc.fit(batches_c, caption_loss(c));
  CHECK(resumed.size() == 2);

  std::string diff;
  CHECK_MESSAGE(same_state(engine::module_state_dict(*a), engine::module_state_dict(*c), diff),
                "final weights differ: " << diff);
  CHECK_MESSAGE(same_state(ta.optimizer().state_dict(), tc.optimizer().state_dict(), diff),
                "optimiser state differs: " << diff);
  CHECK(ta.progress().global_step == tc.progress().global_step);

  // files: the official model format in last/ and the best model at the top
  for (const fs::path& dir : {root / "a", root / "b"}) {
    for (const char* f : {"last/pytorch_model.bin", "last/optimizer.pt", "last/rng.pt", "last/state.json",
                          "pytorch_model.bin", "best.json"})
      CHECK_MESSAGE(fs::exists(dir / f), (dir / f).string() << " missing");
    CHECK_FALSE(fs::exists(dir / "last.old"));
  }
  const auto best_file = prismer::load_weights((root / "a" / "pytorch_model.bin").string());
  CHECK_MESSAGE(same_state(best_file, best_a, diff), "best model file differs from the epoch-1 weights: " << diff);
  const auto best_safetensors = prismer::load_weights((root / "a" / "model.safetensors").string());
  CHECK(prismer::detect_weight_format((root / "a" / "model.safetensors").string()) == prismer::WeightFormat::safetensors);
  CHECK_MESSAGE(same_state(best_safetensors, best_a, diff), "model.safetensors differs from the epoch-1 weights: " << diff);
  CHECK_FALSE(fs::exists(root / "b" / "model.safetensors"));
  const auto best_b = prismer::load_weights((root / "b" / "pytorch_model.bin").string());
  CHECK_MESSAGE(same_state(best_b, best_a, diff), "resumed run kept another best model: " << diff);
  std::cout << "  resume: " << ta.progress().global_step << " steps, weights and optimiser state bitwise equal\n";
  fs::remove_all(root);
}

TEST_CASE("resume refuses a checkpoint that does not fit") {
  const fs::path root = fs::temp_directory_path() / ("prismer_resume_bad_" + std::to_string(::getpid()));
  fs::remove_all(root);
  PrismerModel m(tiny_config());
  engine::AdamW opt(engine::trainable_parameters(*m), {});
  engine::CheckpointStore store(root);
  engine::GradScaler scaler;
  store.save_last(*m, opt, scaler, {});
  PrismerConfig other = tiny_config();
  other.roberta.vocab_size = 900;
  PrismerModel wrong(other);
  engine::AdamW opt2(engine::trainable_parameters(*wrong), {});
  engine::TrainProgress p;
  try {
    store.load_last(*wrong, opt2, scaler, p);
    FAIL_CHECK("a mismatched checkpoint was accepted");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("pytorch_model.bin") != std::string::npos);
    CHECK(msg.find("word_embeddings") != std::string::npos);
  }
  fs::remove_all(root);
}

TEST_CASE("optimiser state round trip continues identically") {
  torch::manual_seed(3);
  auto w1 = torch::randn({4, 3}).requires_grad_(true);
  auto w2 = w1.detach().clone().requires_grad_(true);
  engine::AdamW o1({{"w", w1}}, {1e-2, 0.9, 0.999, 1e-8, 0.05});
  engine::AdamW o2({{"w", w2}}, {1e-2, 0.9, 0.999, 1e-8, 0.05});
  auto run = [](engine::AdamW& o, torch::Tensor& w, int k) {
    o.zero_grad();
    (w * w * static_cast<double>(k)).sum().backward();
    o.step();
  };
  run(o1, w1, 1);
  run(o2, w2, 1);
  engine::AdamW o3({{"w", w2}}, {0.5, 0.9, 0.999, 1e-8, 0.05});
  o3.load_state_dict(o2.state_dict(), "memory");
  CHECK(o3.lr() == doctest::Approx(1e-2));
  run(o1, w1, 2);
  run(o3, w2, 2);
  CHECK(w1.equal(w2));
  // a parameter without a gradient is left alone (no decay, no state)
  auto frozen = torch::ones({2}).requires_grad_(true);
  engine::AdamW o4({{"f", frozen}}, {});
  o4.step();
  CHECK(frozen.equal(torch::ones({2})));
  CHECK(o4.state_dict().size() == 2);  // lr and steps only
  CHECK_THROWS_AS(o1.load_state_dict({{"nope.exp_avg", torch::zeros({1})}}, "x.pt"), std::runtime_error);
}

TEST_CASE("learning-rate schedules follow the original scripts") {
  engine::LrSchedule s;
  s.kind = "cosine_step";
  s.init_lr = 5e-5;
  s.min_lr = 0;
  // train_caption.py: cosine_lr_schedule(epoch * len + i, max_epoch * len, init, min)
  for (std::int64_t e = 0; e < 3; ++e)
    for (std::int64_t i = 0; i < 4; ++i)
      CHECK(s.lr_at(e, i, 4, 3) == engine::cosine_lr(static_cast<double>(e * 4 + i), 12.0, 5e-5, 0.0));
  CHECK(s.lr_at(0, 0, 4, 3) == 5e-5);
  // train_pretrain.py: per-epoch cosine, the first warmup_steps steps overridden by the linear warm-up, whose
  // last value stays until the next epoch
  s.kind = "cosine_epoch";
  s.init_lr = 3e-4;
  s.min_lr = 1e-6;
  s.warmup_lr = 1e-6;
  s.warmup_steps = 6;
  CHECK(s.lr_at(0, 0, 4, 20) == 1e-6);
  CHECK(s.lr_at(0, 3, 4, 20) == engine::warmup_lr(3, 6, 1e-6, 3e-4));
  CHECK(s.lr_at(1, 1, 4, 20) == engine::warmup_lr(5, 6, 1e-6, 3e-4));
  CHECK(s.lr_at(1, 2, 4, 20) == engine::warmup_lr(5, 6, 1e-6, 3e-4));
  CHECK(s.lr_at(2, 0, 4, 20) == engine::cosine_lr(2.0, 20.0, 3e-4, 1e-6));
  CHECK(engine::cosine_lr(20.0, 20.0, 3e-4, 1e-6) == doctest::Approx(1e-6));
  s.kind = "linear";
  CHECK_THROWS_AS(s.validate(), std::invalid_argument);
}
