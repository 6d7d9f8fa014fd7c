// A run of samples a list dataset concatenates (a JSON list read up front, or web shards built on demand).
#pragma once

#include <prismer/image.h>
#include <prismer/sample.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace prismer::datasets {

/// Samples of one source, in a fixed order.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual std::size_t size() const = 0;
  /// Sample `index`; may read small side files (web captions) and throw std::runtime_error naming them.
  virtual Sample sample(std::size_t index) const = 0;
  /// Decodes the image of sample `index` as RGB; the default reads `sample(index).image_path`.
  virtual Image load_image(std::size_t index) const { return read_image(sample(index).image_path, 3); }
  /// Entries dropped while listing (unreadable shards, images without a caption).
  virtual std::size_t skipped() const { return 0; }
};

/// Samples held in memory (the JSON lists).
class SampleVector final : public SampleSource {
 public:
  explicit SampleVector(std::vector<Sample> samples) : samples_(std::move(samples)) {}
  std::size_t size() const override { return samples_.size(); }
  Sample sample(std::size_t index) const override { return samples_.at(index); }

 private:
  std::vector<Sample> samples_;
};

}  // namespace prismer::datasets
