// Loader: a bounded window of batches built by worker threads, handed out in plan order.
#include "prismer/data/loader.h"

#include "prismer/data/distributed_sampler.h"

#include <prismer/log.h>
#include <torch/torch.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace prismer::data {

namespace {

bool is_semantic(const std::string& e) {
  return e == "seg_coco" || e == "seg_ade" || e == "obj_detection" || e == "ocr_detection";
}

/// The train-time engine of one sample: depends on the seed, the epoch and the sample's place in the plan only.
std::mt19937_64 item_engine(std::uint64_t seed, std::int64_t epoch, std::size_t batch, std::size_t slot) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(batch),
                    static_cast<std::uint32_t>(batch >> 32), static_cast<std::uint32_t>(slot)};
  return std::mt19937_64(seq);
}

/// torch::stack by copy_ into one allocation (LibTorch 1.13's CPU cat takes a slow element-wise path here).
torch::Tensor stack(const std::vector<torch::Tensor>& items) {
  std::vector<std::int64_t> shape{static_cast<std::int64_t>(items.size())};
  for (const std::int64_t d : items.front().sizes()) shape.push_back(d);
  torch::Tensor out = torch::empty(shape, items.front().options());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].sizes() != items.front().sizes())
      throw std::runtime_error("collate: sample " + std::to_string(i) + " has shape " + c10::str(items[i].sizes()) +
                               ", the first " + c10::str(items.front().sizes()));
    out[static_cast<std::int64_t>(i)].copy_(items[i]);
  }
  return out;
}

}  // namespace

Batch collate(std::vector<PreparedItem> items) {
  Batch b;
  if (items.empty()) return b;
  std::vector<torch::Tensor> rgb;
  std::map<std::string, std::vector<torch::Tensor>> experts;
  for (PreparedItem& it : items) {
    rgb.push_back(it.rgb);
    for (auto& [name, in] : it.experts) {
      experts[name].push_back(in.value);
      if (in.instance.defined()) experts[name + ".instance"].push_back(in.instance);
    }
    b.samples.push_back(std::move(it.sample));
  }
  b.inputs.rgb = stack(rgb);
  for (auto& [name, list] : experts) b.inputs.experts[name] = stack(list);
  return b;
}

struct Loader::State {
  const Dataset& dataset;
  LoaderOptions options;
  ClipFeatures features;
  bool have_features = false;

  mutable std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::thread> workers;
  bool stop = false;

  // the current epoch (guarded by mutex)
  std::uint64_t generation = 0;
  std::int64_t epoch = -1;
  std::vector<std::vector<std::size_t>> plan;
  std::size_t claimed = 0;   // next batch a worker may take
  std::size_t consumed = 0;  // next batch next() returns
  std::map<std::size_t, Batch> ready;
  std::map<std::size_t, std::string> failed;  // batches whose collation threw
  LoaderProgress progress;
  std::vector<SkippedSample> skipped;

  State(const Dataset& d, LoaderOptions o) : dataset(d), options(std::move(o)) {}

  std::size_t window() const {
    return static_cast<std::size_t>(std::max(1, options.threads)) * static_cast<std::size_t>(std::max(1, options.prefetch));
  }

  /// Builds batch `b` of `plan` (outside the lock); failures are recorded under the lock.
  Batch build(const std::vector<std::size_t>& indices, std::int64_t ep, std::size_t b) {
    std::vector<PreparedItem> items;
    for (std::size_t slot = 0; slot < indices.size(); ++slot) {
      std::mt19937_64 rng = item_engine(options.seed, ep, b, slot);
      try {
        items.push_back(prepare_item(dataset, indices[slot], options.item, have_features ? &features : nullptr, rng));
      } catch (const std::exception& e) {
        log::warn("skipping sample {}: {}", indices[slot], e.what());
        std::lock_guard<std::mutex> lock(mutex);
        skipped.push_back({indices[slot], e.what()});
        ++progress.skipped;
      }
    }
    return collate(std::move(items));
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      cv.wait(lock, [&] { return stop || (claimed < plan.size() && claimed < consumed + window()); });
      if (stop) return;
      const std::size_t b = claimed++;
      const std::uint64_t gen = generation;
      const std::vector<std::size_t> indices = plan[b];
      const std::int64_t ep = epoch;
      lock.unlock();
      Batch batch;
      std::string error;
      try {
        batch = build(indices, ep, b);
      } catch (const std::exception& e) {  // collation failed: next() reports it in the caller's thread
        error = e.what();
      }
      lock.lock();
      if (gen == generation) {
        if (!error.empty()) failed.emplace(b, error);
        ready.emplace(b, std::move(batch));
      }
      cv.notify_all();
    }
  }
};

Loader::Loader(const Dataset& dataset, LoaderOptions options)
    : state_(std::make_unique<State>(dataset, std::move(options))) {
  State& s = *state_;
  if (s.options.batch_size == 0) throw std::invalid_argument("loader: batch_size must be positive");
  if (s.options.world_size < 1 || s.options.rank < 0 || s.options.rank >= s.options.world_size)
    throw std::invalid_argument("loader: rank " + std::to_string(s.options.rank) + " outside world size " +
                                std::to_string(s.options.world_size));
  for (const std::string& e : s.options.item.experts)
    if (is_semantic(e) && !s.have_features) {
      if (s.options.features_dir.empty())
        throw std::invalid_argument("loader: expert '" + e + "' needs the CLIP features: set features_dir");
      s.features = load_clip_features(s.options.features_dir);
      s.have_features = true;
    }
  for (int t = 0; t < s.options.threads; ++t) s.workers.emplace_back([&s] { s.work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->cv.notify_all();
  for (std::thread& t : state_->workers) t.join();
}

void Loader::start_epoch(std::int64_t epoch) {
  State& s = *state_;
  const auto indices = shard_indices(s.dataset.size(), s.options.shuffle, s.options.seed, epoch, s.options.rank,
                                     s.options.world_size);
  auto plan = make_batches(indices, s.options.batch_size, s.options.drop_last);
  std::lock_guard<std::mutex> lock(s.mutex);
  ++s.generation;
  s.epoch = epoch;
  s.plan = std::move(plan);
  s.claimed = s.consumed = 0;
  s.ready.clear();
  s.failed.clear();
  s.progress.batches_done = s.progress.samples_done = 0;
  s.progress.batches_total = s.plan.size();
  s.progress.samples_total = 0;
  for (const auto& b : s.plan) s.progress.samples_total += b.size();
  s.cv.notify_all();
}

std::optional<Batch> Loader::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.epoch < 0) throw std::logic_error("loader: call start_epoch() before next()");
  while (s.consumed < s.plan.size()) {
    const std::size_t b = s.consumed;
    Batch batch;
    if (s.options.threads == 0) {
      const std::vector<std::size_t> indices = s.plan[b];
      lock.unlock();
      batch = s.build(indices, s.epoch, b);
      lock.lock();
    } else {
      s.cv.wait(lock, [&] { return s.ready.count(b) > 0; });
      batch = std::move(s.ready.at(b));
      s.ready.erase(b);
      if (auto f = s.failed.find(b); f != s.failed.end()) {
        const std::string error = f->second;
        s.failed.erase(f);
        ++s.consumed;
        throw std::runtime_error("loader: batch " + std::to_string(b) + ": " + error);
      }
    }
    ++s.consumed;
    ++s.progress.batches_done;
    s.cv.notify_all();  // a worker may take the next batch of the window
    if (batch.samples.empty()) continue;  // every sample of it failed
    s.progress.samples_done += batch.samples.size();
    return batch;
  }
  return std::nullopt;
}

std::size_t Loader::batches_per_epoch() const {
  const State& s = *state_;
  const std::size_t n = s.dataset.size();
  const std::size_t world = static_cast<std::size_t>(s.options.world_size);
  const std::size_t per_rank = n == 0 ? 0 : (n + world - 1) / world;
  return s.options.drop_last ? per_rank / s.options.batch_size
                             : (per_rank + s.options.batch_size - 1) / s.options.batch_size;
}

LoaderProgress Loader::progress() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->progress;
}

std::vector<SkippedSample> Loader::skipped() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->skipped;
}

}  // namespace prismer::data
