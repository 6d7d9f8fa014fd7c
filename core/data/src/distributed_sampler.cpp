// DistributedSampler's permutation, padding and striding, and DataLoader's batching.
#include "prismer/data/distributed_sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace prismer::data {

std::vector<std::size_t> shard_indices(std::size_t n, bool shuffle, std::uint64_t seed, std::int64_t epoch, int rank,
                                       int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw std::invalid_argument("shard_indices: rank " + std::to_string(rank) + " outside world size " +
                                std::to_string(world_size));
  std::vector<std::size_t> order(n);
  if (shuffle) {
    // g = torch.Generator(); g.manual_seed(seed + epoch); torch.randperm(n, generator=g)
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + static_cast<std::uint64_t>(epoch));
    const torch::Tensor perm = torch::randperm(static_cast<std::int64_t>(n), gen, torch::kLong);
    const std::int64_t* p = perm.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::size_t>(p[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
  }
  if (n == 0) return {};
  const std::size_t world = static_cast<std::size_t>(world_size);
  const std::size_t total = (n + world - 1) / world * world;
  for (std::size_t i = n; i < total; ++i) order.push_back(order[i - n]);  // indices += indices[:padding], repeated
  std::vector<std::size_t> mine;
  mine.reserve(total / world);
  for (std::size_t i = static_cast<std::size_t>(rank); i < total; i += world) mine.push_back(order[i]);
  return mine;
}

std::vector<std::vector<std::size_t>> make_batches(const std::vector<std::size_t>& indices, std::size_t batch_size,
                                                   bool drop_last) {
  if (batch_size == 0) throw std::invalid_argument("make_batches: batch size must be positive");
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t b = 0; b < indices.size(); b += batch_size) {
    const std::size_t e = std::min(indices.size(), b + batch_size);
    if (e - b < batch_size && drop_last) break;
    out.emplace_back(indices.begin() + static_cast<std::ptrdiff_t>(b), indices.begin() + static_cast<std::ptrdiff_t>(e));
  }
  return out;
}

}  // namespace prismer::data
