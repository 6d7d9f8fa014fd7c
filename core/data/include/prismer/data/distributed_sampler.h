// The order and share of samples one rank reads in one epoch (torch's DistributedSampler + DataLoader batching).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace prismer::data {

/// `DistributedSampler(n, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed)` after
/// `set_epoch(epoch)`: with shuffle, `torch.randperm(n)` from a generator seeded `seed + epoch` (LibTorch's CPU
/// generator and randperm, the ones Python torch uses), else 0..n-1; padded by repeating the list from its start
/// up to a multiple of `world_size`; then every `world_size`-th index from `rank`. Every rank gets the same count,
/// and together they cover every index. Throws std::invalid_argument for rank outside [0, world_size).
std::vector<std::size_t> shard_indices(std::size_t n, bool shuffle, std::uint64_t seed, std::int64_t epoch, int rank,
                                       int world_size);

/// DataLoader batching of `indices`: consecutive runs of `batch_size`; the last, shorter one dropped when
/// `drop_last` (the original loader drops it for training, keeps it for evaluation).
std::vector<std::vector<std::size_t>> make_batches(const std::vector<std::size_t>& indices, std::size_t batch_size,
                                                   bool drop_last);

}  // namespace prismer::data
