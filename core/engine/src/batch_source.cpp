#include <prismer/engine/batch_source.h>

#include <prismer/data/loader.h>
#include <prismer/data/transform.h>

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace prismer::engine {

BatchSource::~BatchSource() = default;

Collate rgb_collate(int resolution) {
  return [resolution](const Dataset& dataset, const std::vector<std::size_t>& indices, std::mt19937_64&) {
    Batch b;
    std::vector<torch::Tensor> rgb;
    for (const std::size_t i : indices) {
      rgb.push_back(data::transform_eval(dataset.load_image(i), {}, resolution).rgb);
      b.samples.push_back(dataset.sample(i));
    }
    b.inputs.rgb = torch::stack(rgb);
    return b;
  };
}

DatasetBatches::DatasetBatches(const Dataset& dataset, Collate collate, DatasetBatchesOptions options)
    : dataset_(dataset), collate_(std::move(collate)), options_(options) {
  if (options_.batch_size == 0) throw std::invalid_argument("batch_size must be positive");
  count_ = options_.limit > 0 ? std::min(options_.limit, dataset_.size()) : dataset_.size();
  start_epoch(0);
}

std::size_t DatasetBatches::batches_per_epoch() const {
  return options_.drop_last ? count_ / options_.batch_size : (count_ + options_.batch_size - 1) / options_.batch_size;
}

void DatasetBatches::start_epoch(std::int64_t epoch) {
  // one engine per epoch, seeded from (seed, epoch): resuming at an epoch boundary replays the same order
  std::seed_seq seq{static_cast<std::uint32_t>(options_.seed), static_cast<std::uint32_t>(options_.seed >> 32),
                    static_cast<std::uint32_t>(epoch)};
  rng_.seed(seq);
  order_.resize(count_);
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (options_.shuffle) std::shuffle(order_.begin(), order_.end(), rng_);
  cursor_ = 0;
}

bool DatasetBatches::next(Batch& batch) {
  if (cursor_ >= count_) return false;
  const std::size_t end = std::min(count_, cursor_ + options_.batch_size);
  if (options_.drop_last && end - cursor_ < options_.batch_size) return false;
  std::vector<std::size_t> idx(order_.begin() + static_cast<std::ptrdiff_t>(cursor_),
                               order_.begin() + static_cast<std::ptrdiff_t>(end));
  cursor_ = end;
  batch = collate_(dataset_, idx, rng_);
  return true;
}

LoaderBatches::LoaderBatches(const Dataset& dataset, const data::LoaderOptions& options)
    : loader_(std::make_unique<data::Loader>(dataset, options)) {}
LoaderBatches::~LoaderBatches() = default;
std::size_t LoaderBatches::batches_per_epoch() const { return loader_->batches_per_epoch(); }
void LoaderBatches::start_epoch(std::int64_t epoch) { loader_->start_epoch(epoch); }
bool LoaderBatches::next(Batch& batch) {
  auto b = loader_->next();
  if (!b) return false;
  batch = std::move(*b);
  return true;
}

}  // namespace prismer::engine
