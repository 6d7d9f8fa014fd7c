// The Dataset every list plugin (coco, nocaps, vqav2, vg, web, pretrain) is: sample sources end to end.
#pragma once

#include "prismer/datasets/sample_source.h"

#include <prismer/dataset.h>

#include <memory>
#include <string>
#include <vector>

namespace prismer::datasets {

/// Concatenated sample sources with a label folder and, for VQA evaluation, the answer list.
/// Samples carry their own label folder (Sample::label_subdir), so mixed lists need nothing more.
class ListDataset : public Dataset {
 public:
  /// `label_subdir`: the dataset's main label folder (reported by label_subdir()).
  explicit ListDataset(std::string label_subdir) : label_subdir_(std::move(label_subdir)) {}

  /// Appends a source; its samples follow those already added.
  void add(std::unique_ptr<SampleSource> source);
  void set_answer_list(std::vector<std::string> answers) { answer_list_ = std::move(answers); }

  std::size_t size() const override { return total_; }
  Sample sample(std::size_t index) const override;
  std::string label_subdir() const override { return label_subdir_; }
  Image load_image(std::size_t index) const override;
  std::vector<std::string> answer_list() const override { return answer_list_; }
  std::size_t skipped() const override;

 private:
  /// The source holding `index` and the index within it.
  std::pair<const SampleSource*, std::size_t> locate(std::size_t index) const;

  std::string label_subdir_;
  std::vector<std::unique_ptr<SampleSource>> sources_;
  std::vector<std::size_t> starts_;
  std::size_t total_ = 0;
  std::vector<std::string> answer_list_;
};

}  // namespace prismer::datasets
