// One Prismer-BASE training step on this machine: six experts at 224 px (labels 224), batch 2, freeze_lang_vision,
// model.train() (dropout 0.1, BatchNorm batch statistics), loss forward + backward + the engine's AdamW
// (lr 5e-5, weight decay 0.05, as configs/caption.yaml) — the configuration of the Python baseline
// `train_224_all_b2` (prismer/_meta/python_baseline_results.json), whose median is printed beside ours.
// Random weights; the median over timed runs after one warm-up.
//
// usage: bench_train_step [--runs N] [--threads N] [--device cpu|cuda|cuda:N]
#include "prismer_model.h"
#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>
#include "timing.h"

#include <prismer/engine/adamw.h>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

using namespace prismer;
using namespace prismer::backbone;

namespace {

nlohmann::json python_baseline() {
  const char* env = std::getenv("PRISMER_FIXTURES");
  const std::filesystem::path root = env ? env : std::filesystem::path(PRISMER_SOURCE_DIR) / ".." / "shared" / "fixtures";
  std::ifstream in(root / "prismer" / "_meta" / "python_baseline_results.json");
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in);
}

}  // namespace

int main(int argc, char** argv) {
  prismer::use_passive_openmp(argv);  // before any torch work: see openmp_policy.h
  // Freed activations reused, not page-faulted in again (PRISMER_CPU_ALLOCATOR=system measures without).
  prismer::install_caching_cpu_allocator();
  int runs = 3, threads = 2;
  std::string device_name = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--device" && i + 1 < argc) device_name = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_train_step [--runs N] [--threads N] [--device cpu|cuda|cuda:N]\n");
      return 2;
    }
  }
  torch::set_num_threads(threads);
  const torch::Device device(device_name);
  torch::manual_seed(0);

  PrismerConfig cfg = PrismerConfig::preset("base");
  cfg.image_resolution = 224;
  cfg.freeze = "freeze_lang_vision";
  for (const char* e : {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"})
    cfg.experts.push_back(reference_expert_spec(e));
  PrismerModel model(cfg);
  model->to(device);
  model->train();
  auto params = engine::trainable_parameters(*model);
  std::int64_t trainable = 0;
  for (const auto& p : params) trainable += p.second.numel();
  engine::AdamW opt(std::move(params), {5e-5, 0.9, 0.999, 1e-8, 0.05});

  const std::int64_t batch = 2;
  ExpertInputs in;
  in.rgb = torch::randn({batch, 3, 224, 224}).to(device);
  for (const LabelSpec& s : cfg.experts) {
    torch::Tensor t = torch::rand({batch, s.channels, 224, 224}) * 2 - 1;
    if (s.name == "obj_detection")  // the instance map as a 65th channel (ids 0..5, 255 = background)
      t = torch::cat({t, torch::randint(0, 6, {batch, 1, 224, 224}).to(torch::kFloat)}, 1);
    in.experts[s.name] = t.to(device);
  }
  // captions of 16 and 12 words -> 18 ids each after padding (the baseline's); the 4 prompt positions masked
  auto ids = torch::randint(4, cfg.roberta.vocab_size, {batch, 18}, torch::kLong);
  ids.select(1, 0).fill_(0);
  ids[0][17] = 2;
  ids[1][13] = 2;
  ids[1].slice(0, 14).fill_(1);
  auto mask = (ids != 1).to(torch::kLong);
  auto labels = ids.masked_fill(ids == 1, -100);
  labels.slice(1, 0, 4).fill_(-100);
  ids = ids.to(device), mask = mask.to(device), labels = labels.to(device);

  auto step = [&] {
    auto memory = model->encode(in);
    auto loss = model->loss_per_sample(model->decode(ids, mask, memory), labels).mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  std::printf("Prismer-BASE train step (224 px, six experts, batch 2, freeze_lang_vision): %lld trainable parameters, "
              "%d thread(s), %s\n", static_cast<long long>(trainable), threads, device.str().c_str());
  const double s = bench::median_seconds(step, runs, 1);
  const auto base = python_baseline();
  const char* name = "train_224_all_b2";
  if (base.contains(name) && base[name].contains("median_s")) {
    const double py = base[name]["median_s"].get<double>();
    std::printf("%-18s %8.3f s   python %8.3f s   speed-up %5.2fx\n", name, s, py, py / s);
  } else {
    std::printf("%-18s %8.3f s   (no python baseline)\n", name, s);
  }
  return 0;
}
