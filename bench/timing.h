// The one timer the benchmarks share: median wall-clock seconds over repeated runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace prismer::bench {

/// Runs `f` `warmup` times untimed, then `runs` times, and returns the median duration in seconds.
inline double median_seconds(const std::function<void()>& f, int runs, int warmup = 0) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace prismer::bench
