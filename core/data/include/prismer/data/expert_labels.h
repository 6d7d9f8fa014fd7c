// Loading an image and its expert labels as the original `get_expert_labels` (dataset/utils.py) does.
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace prismer::data {

/// The side information `post_label_process` needs (`labels_info` of the original).
struct LabelInfo {
  /// obj_detection: `<name>.json` = {"instance id": class id}; empty when obj_detection is not loaded.
  std::optional<std::map<std::string, std::int64_t>> obj_detection;
  /// ocr_detection: `<name>.pt` = {word id: features float32[64]}; nullopt when the .pt file is absent
  /// (the original's `None`) or when ocr_detection is not loaded.
  std::optional<std::map<std::int64_t, torch::Tensor>> ocr_detection;
  /// ocr_detection words (`'text'` of each entry), for information.
  std::map<std::int64_t, std::string> ocr_words;
};

/// An image with its labels, in expert order (the original's `labels` dict).
struct ExpertSample {
  Image image;                                       ///< RGB
  std::vector<std::pair<std::string, Image>> labels; ///< expert name -> 'L' (1 ch) or 'RGB' (normal, 3 ch) map
  LabelInfo info;
};

/// `get_expert_labels(data_path, label_path, image_path, dataset, experts)`:
/// image `<data_path>/<dataset>/<image_path>` as RGB; for each expert the label
/// `<label_path>/<expert>/<dataset>/<image_path with '.<ext>' replaced by '.png'>` (Python str.replace: every
/// occurrence). depth/edge/seg_coco/seg_ade: 'L', a zero-byte file -> zeros; normal: 'RGB', a zero-byte file ->
/// zeros (the original raises TypeError there; zeros is its evident intent); obj_detection: 'L', a zero-byte file
/// -> all 255, plus its `.json`; ocr_detection: when the `.pt` exists the 'L' png and the word features, else all
/// 255 and no info. Non-grey PNGs become 'L' with Pillow's ITU-R 601-2 integer formula. Throws
/// std::runtime_error naming the file for a missing file or an unknown expert name.
ExpertSample get_expert_labels(const std::string& data_path, const std::string& label_path,
                               const std::string& image_path, const std::string& dataset,
                               const std::vector<std::string>& experts);

/// Names the file of one expert's label: `label_file(expert, ext)` with ext ".png", ".json" or ".pt".
using LabelFileFn = std::function<std::string(const std::string& expert, const std::string& ext)>;

/// The labels of an already decoded RGB `image` with get_expert_labels' rules (zero-byte files, side files, OCR
/// without a .pt), each file named by `label_file` — for datasets whose images are not plain files.
ExpertSample load_expert_labels(Image image, const LabelFileFn& label_file, const std::vector<std::string>& experts);

/// Reads an OCR word file (`torch.save` of {int: {'features': Tensor, 'text': str}}) without LibTorch's
/// unpickler (which rejects the one-word files the original writes).
std::pair<std::map<std::int64_t, torch::Tensor>, std::map<std::int64_t, std::string>> load_ocr_words(const std::string& path);

}  // namespace prismer::data
