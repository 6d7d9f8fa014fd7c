// The threaded data loader: worker threads decode, load labels, transform and collate batches ahead of the caller.
#pragma once

#include <prismer/data/prepare_item.h>
#include <prismer/dataset.h>
#include <prismer/task.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prismer::data {

/// Loader settings (the original: DataLoader(batch_size, shuffle=train, drop_last=train) under accelerate).
struct LoaderOptions {
  ItemOptions item;               ///< experts, label root, resolution, train transform
  std::string features_dir;       ///< the CLIP feature files (needed for seg_*, obj_detection, ocr_detection)
  std::size_t batch_size = 1;
  int threads = 2;                ///< worker threads; 0 = build batches in the calling thread
  int prefetch = 2;               ///< batches each worker may hold ready beyond the one being consumed
  bool shuffle = false;
  bool drop_last = false;         ///< drop the last, shorter batch (the original does for training)
  std::uint64_t seed = 0;         ///< shuffling (seed + epoch) and the train-time draws
  int rank = 0;                   ///< this process among `world_size` (DistributedSampler sharding)
  int world_size = 1;
};

/// Where an epoch stands.
struct LoaderProgress {
  std::size_t batches_done = 0;
  std::size_t batches_total = 0;
  std::size_t samples_done = 0;   ///< samples delivered in batches
  std::size_t samples_total = 0;  ///< this rank's samples this epoch (after drop_last)
  std::size_t skipped = 0;        ///< samples that failed to load (all epochs)
};

/// A sample that could not be loaded, and why (the message names the file).
struct SkippedSample {
  std::size_t index = 0;
  std::string reason;
};

/// Iterates a dataset in batches. Batches come in a fixed order for a seed whatever the thread count: the
/// order is DistributedSampler's, each batch is built by one worker, and train-time draws come from an engine
/// seeded by (seed, epoch, position). A sample whose image or labels fail to load is logged with the file,
/// counted and left out of its batch (which is then shorter; a batch with no sample left is skipped).
///
/// Example:
/// \code
///   prismer::data::LoaderOptions o;
///   o.item = {{"depth", "edge"}, "labels", 480};
///   o.batch_size = 8;
///   prismer::data::Loader loader(dataset, o);
///   loader.start_epoch(0);
///   while (auto batch = loader.next()) task.loss(backbone, *batch);
/// \endcode
class Loader {
 public:
  /// `dataset` must outlive the loader. Loads the CLIP features when a semantic expert is listed.
  Loader(const Dataset& dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Begins epoch `epoch` (reshuffles with seed + epoch); an unfinished epoch is abandoned.
  void start_epoch(std::int64_t epoch);
  /// The next batch of the epoch, or nullopt at its end.
  std::optional<Batch> next();

  /// Batches this rank gets per epoch.
  std::size_t batches_per_epoch() const;
  LoaderProgress progress() const;
  /// Every sample skipped so far.
  std::vector<SkippedSample> skipped() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Stacks prepared items into a Batch: rgb [B,3,R,R], experts[name] [B,C,224,224], and the obj_detection instance
/// map as experts["obj_detection.instance"] [B,1,224,224] (the key the prismer backbone reads).
Batch collate(std::vector<PreparedItem> items);

}  // namespace prismer::data
