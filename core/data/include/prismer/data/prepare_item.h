// One dataset sample -> backbone inputs: what the original Dataset.__getitem__ does besides the text.
#pragma once

#include <prismer/data/clip_features.h>
#include <prismer/data/post_label_process.h>
#include <prismer/data/train_transform.h>
#include <prismer/dataset.h>

#include <torch/types.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace prismer::data {

/// How samples become tensors.
struct ItemOptions {
  std::vector<std::string> experts;  ///< label folders in the original's order (e.g. depth, normal, seg_coco, ...)
  std::string label_root;            ///< label_path: `<label_root>/<expert>/<label folder>/<label name>.png`
  int resolution = 480;              ///< image side (labels are always 224)
  bool train = false;                ///< train-time Transform (crop, flip, RandAugment) instead of the eval resize
  TrainTransformOptions train_options;  ///< scale and RandAugment settings; its resolution is ignored
};

/// A sample with its tensors.
struct PreparedItem {
  Sample sample;
  torch::Tensor rgb;                                        ///< float32 [3, R, R], CLIP-normalised
  std::vector<std::pair<std::string, ExpertInput>> experts; ///< post_label_process output, in `experts` order
};

/// The label file of `sample` for `expert`: `<label_root>/<expert>/<label folder>/<label_name><ext>`.
std::string label_file(const Dataset& dataset, const Sample& sample, const std::string& label_root,
                       const std::string& expert, const std::string& ext);

/// Decodes sample `index` (Dataset::load_image), loads its labels (get_expert_labels' rules), applies the eval or
/// train Transform (`rng` draws the train-time choices; unused for eval) and post_label_process. `features` may be
/// null when no semantic expert is listed. Throws std::runtime_error naming the file that failed.
PreparedItem prepare_item(const Dataset& dataset, std::size_t index, const ItemOptions& options,
                          const ClipFeatures* features, std::mt19937_64& rng);

}  // namespace prismer::data
