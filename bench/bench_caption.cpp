// Caption generation speed (PrismerCaption's generate: beam 3, max_length 20, min_length 8, 4-token prompt) at
// Prismer-BASE size, 480 px, all six experts (labels 224 px), batch 1 and 8, in images/s: the encoder plus beam
// search with the key/value cache (the caption task's path: prompt once, then one token per step, cross-attention
// keys/values once) and without it (the reference's way: the whole prefix through the decoder at every step).
// Random weights, so EOS never wins and every run takes all 16 steps. Medians; the original Python code's
// medians (prismer/_meta/python_baseline_results.json: caption_480_all_b1 under transformers 4.26.1,
// caption_480_all_b4 under 4.27.4, same machine kind) are printed next to them.
//
// usage: bench_caption [--quick] [--runs N] [--batch N]... [--cached-only] [--device cpu|cuda|cuda:N]
//   --quick: the fixtures' tiny model (80 px), batch 1 and 2 — seconds, for a smoke test.
//   --batch: only these batch sizes; --cached-only: skip the (slow) run without the cache.
#include "beam_search.h"
#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>
#include "prismer_model.h"
#include "timing.h"

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace prismer;
using namespace prismer::backbone;
namespace cap = prismer::caption;
using prismer::bench::median_seconds;

namespace {

nlohmann::json python_baseline() {
  const char* env = std::getenv("PRISMER_FIXTURES");
  const std::filesystem::path root = env ? env : std::filesystem::path(PRISMER_SOURCE_DIR) / ".." / "shared" / "fixtures";
  std::ifstream in(root / "prismer" / "_meta" / "python_baseline_results.json");
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in);
}

ExpertInputs inputs_for(const PrismerConfig& cfg, std::int64_t batch, std::int64_t res, std::int64_t label_res,
                        const torch::Device& device) {
  ExpertInputs in;
  in.rgb = torch::randn({batch, 3, res, res}).to(device);
  for (const LabelSpec& s : cfg.experts) {
    torch::Tensor t = torch::rand({batch, s.channels, label_res, label_res}) * 2 - 1;
    if (s.name == "obj_detection")  // the instance map rides along as a 65th channel (ids 0..5, 255 = background)
      t = torch::cat({t, torch::randint(0, 6, {batch, 1, label_res, label_res}).to(torch::kFloat)}, 1);
    in.experts[s.name] = t.to(device);
  }
  return in;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

/// Beam search that re-runs the whole prefix every step (no cache), as the reference does; `memory` is shared
/// by the beams for batch 1 (transformers 4.26) and repeated per beam otherwise (4.27).
cap::BeamSearchResult generate_uncached(PrismerModel& model, const torch::Tensor& memory, const torch::Tensor& ids,
                                        const torch::Tensor& mask, const cap::BeamSearchOptions& opt) {
  const torch::Tensor mem = memory.size(0) == 1 ? memory : memory.repeat_interleave(opt.num_beams, 0);
  torch::Tensor full, pending;
  auto step = [&](const torch::Tensor& new_ids, const torch::Tensor& m) {
    full = full.defined() ? torch::cat({full.index_select(0, pending), new_ids}, 1) : new_ids;
    return model->decode(full, m, mem);
  };
  auto reorder = [&](const torch::Tensor& idx) { pending = idx; };
  return cap::beam_search(ids, mask, step, reorder, opt);
}

}  // namespace

int main(int argc, char** argv) {
  prismer::use_passive_openmp(argv);  // before any torch work: see openmp_policy.h
  // Freed activations reused, not page-faulted in again (PRISMER_CPU_ALLOCATOR=system measures without).
  prismer::install_caching_cpu_allocator();
  bool quick = false, cached_only = false;
  int runs = 3;
  std::vector<std::int64_t> only_batches;
  torch::Device device(torch::kCPU);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--device" && i + 1 < argc) device = torch::Device(argv[++i]);
    else if (a == "--batch" && i + 1 < argc) only_batches.push_back(std::max(1, std::atoi(argv[++i])));
    else if (a == "--cached-only") cached_only = true;
    else {
      std::fprintf(stderr, "usage: bench_caption [--quick] [--runs N] [--batch N]... [--cached-only] [--device cpu|cuda|cuda:N]\n");
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::InferenceMode guard;
  const nlohmann::json base = device.is_cpu() && !quick ? python_baseline() : nlohmann::json::object();

  PrismerConfig cfg = PrismerConfig::preset(quick ? "tiny" : "base");
  for (const char* e : {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"})
    cfg.experts.push_back(reference_expert_spec(e));
  const std::int64_t res = quick ? 80 : 480, label_res = quick ? 48 : 224;
  cfg.image_resolution = res;
  PrismerModel model(cfg);
  model->eval();
  model->to(device);
  std::printf("caption generate, Prismer-%s, %lld px, six experts, beam 3, max_length 20, min_length 8, random "
              "weights, device %s, %d CPU threads, %d timed runs\n",
              quick ? "tiny" : "BASE", static_cast<long long>(res), device.str().c_str(), torch::get_num_threads(), runs);

  cap::BeamSearchOptions opt;
  opt.num_beams = 3;
  opt.max_length = 20;
  opt.min_length = 8;
  std::vector<std::int64_t> batches = quick ? std::vector<std::int64_t>{1, 2} : std::vector<std::int64_t>{1, 8};
  if (!only_batches.empty()) batches = only_batches;
  for (const std::int64_t batch : batches) {
    const ExpertInputs in = inputs_for(cfg, batch, res, label_res, device);
    // "<s> A picture of": 4 ids; random words of the vocabulary stand in for them
    const torch::Tensor ids = torch::randint(4, cfg.roberta.vocab_size, {1, 4}, torch::kLong).repeat({batch, 1}).to(device);
    const torch::Tensor mask = torch::ones_like(ids);
    // fixed instance-embedding draws, so both paths see the same encoder output (the reference draws randomly)
    const InstanceDraw draw = [](std::int64_t id) { return id % 128; };
    const int warmup = batch == 1 ? 1 : 0;  // the large batch is slow; its first run is timed too
    torch::Tensor cached_seq, uncached_seq;
    std::int64_t steps = 0;
    const double enc = median_seconds([&] { model->encode(in, nullptr, draw); synchronize(device); }, runs, warmup);
    std::vector<double> decoding;  // the generate part of each cached run
    const double cached = median_seconds([&] {
      const torch::Tensor memory = model->encode(in, nullptr, draw);
      synchronize(device);
      const auto start = std::chrono::steady_clock::now();
      KVCache cache;
      cap::DecodeFn decode = [&](const torch::Tensor& i, const torch::Tensor& m, const torch::Tensor& mem,
                                 DecodeCache* c) { return model->decode(i, m, mem, static_cast<KVCache*>(c)); };
      const auto r = cap::generate(decode, cache, memory, ids, mask, opt);
      synchronize(device);
      cached_seq = r.sequences;
      steps = r.num_steps;
      decoding.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }, runs, warmup);
    std::sort(decoding.begin(), decoding.end());
    const double decode_part = decoding[decoding.size() / 2];
    const double uncached = cached_only ? 0.0 : median_seconds([&] {
      const torch::Tensor memory = model->encode(in, nullptr, draw);
      uncached_seq = generate_uncached(model, memory, ids, mask, opt).sequences;
      synchronize(device);
    }, runs, warmup);
    const std::string key = "caption_480_all_b" + std::to_string(batch == 8 ? 4 : batch);
    std::printf("batch %lld (%lld decoder steps): encoder %.3f s | generate with KV cache %.3f s = %.3f images/s "
                "(beam search %.3f s)\n",
                static_cast<long long>(batch), static_cast<long long>(steps), enc, cached, batch / cached, decode_part);
    if (!cached_only)
      std::printf("  without cache %.3f s = %.3f images/s | cache speed-up %.2fx (%.2fx on the decoding part) | "
                  "same sequences: %s\n",
                  uncached, batch / uncached, uncached / cached, (uncached - enc) / std::max(1e-9, cached - enc),
                  cached_seq.equal(uncached_seq) ? "yes" : "NO");
    if (base.contains(key) && base[key].contains("median_s")) {
      const double py = base[key]["median_s"].get<double>();
      const double py_batch = base[key].value("batch", batch == 8 ? 4 : batch);
      std::printf("  python %s: %.3f s = %.3f images/s -> C++ with cache %.2fx the images/s\n", key.c_str(), py,
                  py_batch / py, (batch / cached) / (py_batch / py));
    }
    std::fflush(stdout);
  }
  return 0;
}
