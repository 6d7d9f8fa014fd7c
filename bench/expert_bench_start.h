// The start every expert benchmark shares: process settings, then `[--runs N] [--device cpu|cuda]`.
#pragma once

#include <prismer/core/cpu_allocator.h>
#include <prismer/core/openmp_policy.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace prismer::bench {

struct ExpertBenchOptions {
  int runs = 3;
  std::string device = "cpu";
};

/// Passive OpenMP waiting and the caching CPU allocator (freed activations reused, not page-faulted in again;
/// PRISMER_CPU_ALLOCATOR=system measures without), then the options; nullopt (usage printed) on a bad argument.
inline std::optional<ExpertBenchOptions> start_expert_bench(int argc, char** argv, const char* name) {
  use_passive_openmp(argv);  // before any torch work: see openmp_policy.h
  install_caching_cpu_allocator();
  ExpertBenchOptions o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) o.runs = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) o.device = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--runs N] [--device cpu|cuda]\n", name);
      return std::nullopt;
    }
  }
  return o;
}

}  // namespace prismer::bench
