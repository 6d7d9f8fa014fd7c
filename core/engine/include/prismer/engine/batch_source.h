// Where the trainer's batches come from. The loader threads of core/data (decode, labels, augmentation,
// expert encoding) implement BatchSource; DatasetBatches is the minimal single-threaded stand-in used until then
// (and by tests): it enumerates a Dataset in (shuffled) batches and hands each to a collate function.
#pragma once

#include <prismer/dataset.h>
#include <prismer/task.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

namespace prismer::data {
class Loader;
struct LoaderOptions;
}  // namespace prismer::data

namespace prismer::engine {

/// A source of batches, epoch by epoch.
class BatchSource {
 public:
  virtual ~BatchSource();
  /// Batches one epoch yields.
  virtual std::size_t batches_per_epoch() const = 0;
  /// Rewinds to the start of `epoch`. The order and every random draw of an epoch must depend only on the
  /// source's seed and `epoch`, so a run resumed at an epoch boundary sees what an uninterrupted run saw.
  virtual void start_epoch(std::int64_t epoch) = 0;
  /// The next batch of the current epoch; false at its end.
  virtual bool next(Batch& batch) = 0;
};

/// Builds a batch from dataset samples (decode, transform, encode). `rng` is seeded per epoch.
using Collate = std::function<Batch(const Dataset& dataset, const std::vector<std::size_t>& indices, std::mt19937_64& rng)>;

/// A collate of the RGB image only (the eval-time Transform at `resolution`, CLIP-normalised); no expert inputs,
/// which the Prismer backbone then skips (PrismerZ-style). Expert labels need the core/data loader.
Collate rgb_collate(int resolution);

/// Options of DatasetBatches. The original's train loader shuffles and drops the last partial batch.
struct DatasetBatchesOptions {
  std::size_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;
  std::uint64_t seed = 42;
  std::size_t limit = 0;  ///< use only the first `limit` samples (0 = all)
};

class DatasetBatches : public BatchSource {
 public:
  DatasetBatches(const Dataset& dataset, Collate collate, DatasetBatchesOptions options);
  std::size_t batches_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  bool next(Batch& batch) override;

 private:
  const Dataset& dataset_;
  Collate collate_;
  DatasetBatchesOptions options_;
  std::size_t count_;
  std::vector<std::size_t> order_;
  std::size_t cursor_ = 0;
  std::mt19937_64 rng_;
};

/// The threaded core/data loader (labels, train-time augmentation, expert encoding) as a BatchSource.
class LoaderBatches : public BatchSource {
 public:
  /// `dataset` must outlive this object.
  LoaderBatches(const Dataset& dataset, const data::LoaderOptions& options);
  ~LoaderBatches() override;
  std::size_t batches_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  bool next(Batch& batch) override;

 private:
  std::unique_ptr<data::Loader> loader_;
};

}  // namespace prismer::engine
