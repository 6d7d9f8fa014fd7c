// Prismer-BASE backbone speed on this machine: expert-encoder forward (224/480 px, RGB only / six experts,
// batch 1/4) and the per-token decoder cost with and without the key/value cache, next to the original
// Python code's medians read from the fixtures (prismer/_meta/python_baseline_results.json, same machine
// kind). Random weights; medians over repeated runs after one warm-up.
//
// usage: bench_backbone [--quick] [--only NAME]... [--device cpu|cuda|cuda:N]
//   --quick: batch 1 only. --only: just the named configurations (e.g. enc_all_480_b4, decode), for profiling.
//   On a GPU the model runs in float32 and, first, the encoder and decoder outputs of the CUDA model are compared
//   with the same model on the CPU (largest absolute difference). On the CPU each encoder configuration is also
//   timed with every linear layer on OpenBLAS (oneDNN off), in the same process.
#include "linear.h"
#include "prismer_model.h"
#include "timing.h"

#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

using namespace prismer;
using namespace prismer::backbone;
using prismer::bench::median_seconds;

namespace {

nlohmann::json python_baseline() {
  const char* env = std::getenv("PRISMER_FIXTURES");
  const std::filesystem::path root = env ? env : std::filesystem::path(PRISMER_SOURCE_DIR) / ".." / "shared" / "fixtures";
  std::ifstream in(root / "prismer" / "_meta" / "python_baseline_results.json");
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in);
}

// `blas_only`: the same configuration with every linear layer on OpenBLAS (no oneDNN), negative when not measured.
void print_row(const std::string& name, double seconds, double blas_only, const nlohmann::json& base) {
  if (base.contains(name) && base[name].contains("median_s")) {
    const double py = base[name]["median_s"].get<double>();
    std::printf("%-22s %9.3f s   python %9.3f s   speed-up %5.2fx", name.c_str(), seconds, py, py / seconds);
  } else {
    std::printf("%-22s %9.3f s   (no python baseline)", name.c_str(), seconds);
  }
  if (blas_only > 0) std::printf("   | OpenBLAS only %7.3f s (oneDNN %.2fx)", blas_only, blas_only / seconds);
  std::printf("\n");
  std::fflush(stdout);
}

ExpertInputs inputs_for(const PrismerConfig& cfg, std::int64_t batch, std::int64_t res, const torch::Device& device) {
  ExpertInputs in;
  in.rgb = torch::randn({batch, 3, res, res}).to(device);
  for (const LabelSpec& s : cfg.experts) {
    torch::Tensor t = torch::rand({batch, s.channels, 224, 224}) * 2 - 1;
    if (s.name == "obj_detection")  // the instance map rides along as a 65th channel (ids 0..5, 255 = background)
      t = torch::cat({t, torch::randint(0, 6, {batch, 1, 224, 224}).to(torch::kFloat)}, 1);
    in.experts[s.name] = t.to(device);
  }
  return in;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// The CUDA model against the same weights on the CPU: six experts, 224 px, batch 2.
void check_against_cpu(const torch::Device& device) {
  PrismerConfig cfg = PrismerConfig::preset("base");
  for (const char* e : {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"})
    cfg.experts.push_back(reference_expert_spec(e));
  PrismerModel model(cfg);
  model->eval();
  const ExpertInputs cpu_in = inputs_for(cfg, 2, 224, torch::kCPU);
  const torch::Tensor ids = torch::randint(4, 50000, {2, 12}, torch::kLong);
  const torch::Tensor mask = torch::ones({2, 12}, torch::kLong);
  const torch::Tensor cpu_memory = model->encode(cpu_in);
  const torch::Tensor cpu_logits = model->decode(ids, mask, cpu_memory);
  model->to(device);
  ExpertInputs gpu_in;
  gpu_in.rgb = cpu_in.rgb.to(device);
  for (const auto& [k, v] : cpu_in.experts) gpu_in.experts[k] = v.to(device);
  const torch::Tensor gpu_memory = model->encode(gpu_in);
  const torch::Tensor gpu_logits = model->decode(ids.to(device), mask.to(device), gpu_memory);
  KVCache cache;
  std::vector<torch::Tensor> steps{model->decode(ids.slice(1, 0, 4).to(device), mask.slice(1, 0, 4).to(device), gpu_memory, &cache)};
  for (std::int64_t t = 4; t < 12; ++t)
    steps.push_back(model->decode(ids.slice(1, t, t + 1).to(device), mask.slice(1, 0, t + 1).to(device), gpu_memory, &cache));
  const double enc = (gpu_memory.cpu() - cpu_memory).abs().max().item<double>();
  const double dec = (gpu_logits.cpu() - cpu_logits).abs().max().item<double>();
  const double cached = (torch::cat(steps, 1).cpu() - cpu_logits).abs().max().item<double>();
  std::printf("CUDA vs CPU, BASE six experts 224 px batch 2: encoder max|diff| %.3g (max|ref| %.3g), logits %.3g "
              "(max|ref| %.3g), cached-decoding logits %.3g\n",
              enc, cpu_memory.abs().max().item<double>(), dec, cpu_logits.abs().max().item<double>(), cached);
}

}  // namespace

int main(int argc, char** argv) {
  prismer::use_passive_openmp(argv);  // before any torch work: see openmp_policy.h
  // PRISMER_CPU_ALLOCATOR=system measures without the caching allocator.
  std::cout << "caching CPU allocator: " << (prismer::install_caching_cpu_allocator() ? "on" : "off") << "\n";
  bool quick = false;
  std::vector<std::string> only;
  torch::Device device(torch::kCPU);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--device" && i + 1 < argc) device = torch::Device(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only.emplace_back(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_backbone [--quick] [--only NAME]... [--device cpu|cuda|cuda:N]\n");
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::InferenceMode guard;
  const nlohmann::json base = device.is_cpu() ? python_baseline() : nlohmann::json::object();
  std::printf("Prismer-BASE, random weights, device %s, %d CPU threads\n", device.str().c_str(), torch::get_num_threads());
  if (device.is_cuda()) check_against_cpu(device);

  const auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  for (const bool all : {false, true}) {
    PrismerConfig cfg = PrismerConfig::preset("base");
    if (all)
      for (const char* e : {"depth", "normal", "seg_coco", "edge", "obj_detection", "ocr_detection"})
        cfg.experts.push_back(reference_expert_spec(e));
    for (const std::int64_t res : {224, 480}) {
      cfg.image_resolution = res;
      const std::string prefix = std::string("enc_") + (all ? "all_" : "rgb_") + std::to_string(res) + "_b";
      if (!wanted(prefix + "1") && !wanted(prefix + "4") && !(all && res == 480 && wanted("decode"))) continue;
      PrismerModel model(cfg);
      model->eval();
      model->to(device);
      for (const std::int64_t batch : {1, 4}) {
        const std::string name = prefix + std::to_string(batch);
        if ((quick && batch > 1) || !wanted(name)) continue;
        const ExpertInputs in = inputs_for(cfg, batch, res, device);
        const auto run = [&] { model->encode(in); synchronize(device); };
        const int runs = batch == 1 ? 5 : 3;
        const double s = median_seconds(run, runs, 1);
        double blas_only = -1;
        if (device.is_cpu() && onednn_linear_enabled()) {
          set_onednn_linear_enabled(false);
          blas_only = median_seconds(run, runs, 1);
          set_onednn_linear_enabled(true);
        }
        print_row(name, s, blas_only, base);
      }
      if (all && res == 480 && wanted("decode")) {
        // Per-token decoder cost for 3 beams at 480 px with six experts (964 memory tokens), 4-token prompt, 16 steps.
        const torch::Tensor memory = model->encode(inputs_for(cfg, 1, res, device)).expand({3, -1, -1}).contiguous();
        const torch::Tensor ids = torch::randint(4, 50000, {3, 20}, torch::kLong).to(device);
        const torch::Tensor mask = torch::ones({3, 20}, torch::kLong).to(device);
        const double uncached = median_seconds([&] {
          for (std::int64_t t = 4; t < 20; ++t) model->decode(ids.slice(1, 0, t + 1), mask.slice(1, 0, t + 1), memory);
          synchronize(device);
        }, 3, 1) / 16;
        const double cached = median_seconds([&] {
          KVCache cache;
          model->decode(ids.slice(1, 0, 4), mask.slice(1, 0, 4), memory, &cache);
          for (std::int64_t t = 4; t < 20; ++t) model->decode(ids.slice(1, t, t + 1), mask.slice(1, 0, t + 1), memory, &cache);
          synchronize(device);
        }, 3, 1) / 16;
        std::printf("decode per token, 3 beams, 480 px, six experts: uncached %.4f s, cached %.4f s (%.1fx)\n", uncached,
                    cached, uncached / cached);
      }
    }
  }
  return 0;
}
