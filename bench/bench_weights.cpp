// Weight-file I/O throughput: torch.save zip vs safetensors, reading and writing a BASE-sized state dict
// (~50 tensors, 256 MB of float32 by default). Prints medians of 5 runs and the ratio between formats.
//
// usage: bench_weights [megabytes] [folder]
#include "timing.h"

#include <prismer/weights.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>

using prismer::bench::median_seconds;

int main(int argc, char** argv) {
  const double megabytes = argc > 1 ? std::atof(argv[1]) : 256.0;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path() / "prismer-bench-weights";
  std::filesystem::create_directories(dir);
  const auto per_tensor = static_cast<std::int64_t>(megabytes * 1024 * 1024 / 4 / 48);
  prismer::TensorMap tensors;
  for (int i = 0; i < 48; ++i) tensors.emplace_back("layer." + std::to_string(i) + ".weight", torch::randn({per_tensor}));
  const std::string pt = (dir / "bench.pt").string();
  const std::string st = (dir / "bench.safetensors").string();

  const double save_pt = median_seconds([&] { prismer::save_torch(tensors, pt); }, 5);
  const double save_st = median_seconds([&] { prismer::save_safetensors(tensors, st); }, 5);
  const double load_pt = median_seconds([&] { prismer::load_weights(pt); }, 5);
  const double load_st = median_seconds([&] { prismer::load_weights(st); }, 5);
  std::printf("state dict: 48 tensors, %.0f MB (median of 5)\n", megabytes);
  std::printf("  write torch.save zip  %8.3f s  %8.0f MB/s\n", save_pt, megabytes / save_pt);
  std::printf("  write safetensors     %8.3f s  %8.0f MB/s\n", save_st, megabytes / save_st);
  std::printf("  read  torch.save zip  %8.3f s  %8.0f MB/s\n", load_pt, megabytes / load_pt);
  std::printf("  read  safetensors     %8.3f s  %8.0f MB/s  (zip/safetensors read-time ratio %.2f)\n", load_st,
              megabytes / load_st, load_pt / load_st);
  std::filesystem::remove(pt);
  std::filesystem::remove(st);
  return 0;
}
