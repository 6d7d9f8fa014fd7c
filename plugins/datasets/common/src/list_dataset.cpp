// ListDataset: index -> (source, local index) by binary search over the sources' start offsets.
#include "prismer/datasets/list_dataset.h"

#include <algorithm>
#include <stdexcept>

namespace prismer::datasets {

void ListDataset::add(std::unique_ptr<SampleSource> source) {
  starts_.push_back(total_);
  total_ += source->size();
  sources_.push_back(std::move(source));
}

std::pair<const SampleSource*, std::size_t> ListDataset::locate(std::size_t index) const {
  if (index >= total_)
    throw std::out_of_range("sample " + std::to_string(index) + " of a dataset with " + std::to_string(total_));
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), index) - 1;
  std::size_t k = static_cast<std::size_t>(it - starts_.begin());
  while (sources_[k]->size() == 0 || index - starts_[k] >= sources_[k]->size()) ++k;  // skip empty sources
  return {sources_[k].get(), index - starts_[k]};
}

Sample ListDataset::sample(std::size_t index) const {
  const auto [source, local] = locate(index);
  return source->sample(local);
}

Image ListDataset::load_image(std::size_t index) const {
  const auto [source, local] = locate(index);
  return source->load_image(local);
}

std::size_t ListDataset::skipped() const {
  std::size_t n = 0;
  for (const auto& s : sources_) n += s->skipped();
  return n;
}

}  // namespace prismer::datasets
