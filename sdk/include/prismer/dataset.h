// The Dataset interface: enumerates the samples of one on-disk format.
#pragma once

#include <prismer/component.h>
#include <prismer/image.h>
#include <prismer/sample.h>

#include <cstddef>
#include <string>
#include <vector>

namespace prismer {

/// A dataset plugin. Constructed from its config, it lists samples; decoding happens in the loader.
///
/// Example (in a plugin):
/// \code
///   class MyList : public prismer::Dataset {
///    public:
///     explicit MyList(const prismer::Config& cfg) { ... read the list named by cfg ... }
///     std::size_t size() const override { return samples_.size(); }
///     prismer::Sample sample(std::size_t i) const override { return samples_.at(i); }
///     std::string label_subdir() const override { return "my_list"; }
///   };
/// \endcode
class PRISMER_API Dataset : public Component {
 public:
  ~Dataset() override;
  /// Number of samples.
  virtual std::size_t size() const = 0;
  /// Sample `index` (0 <= index < size()).
  virtual Sample sample(std::size_t index) const = 0;
  /// The folder name of this dataset in the label layout `<label_root>/<expert>/<label_subdir>/...`.
  virtual std::string label_subdir() const = 0;
  /// The label folder of one sample: its own `label_subdir` when set (lists that mix sources, e.g. VQAv2 with
  /// Visual Genome), else label_subdir().
  std::string label_subdir_of(const Sample& sample) const {
    return sample.label_subdir.empty() ? label_subdir() : sample.label_subdir;
  }
  /// The candidate answers of a VQA evaluation list (the original's `answer_list.json`); empty for other data.
  virtual std::vector<std::string> answer_list() const { return {}; }
  /// Decodes the image of sample `index`. The default reads `sample(index).image_path` as RGB.
  /// Throws std::runtime_error naming the file when it cannot be decoded.
  virtual Image load_image(std::size_t index) const;
  /// Files that could not be listed (e.g. unreadable entries found while scanning), for the final report.
  virtual std::size_t skipped() const { return 0; }
};

}  // namespace prismer
