// What a dataset enumerates: one image and its text, before any decoding.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prismer {

/// One sample of a dataset. Datasets fill what their format has; the rest stays empty.
struct Sample {
  std::string id;             ///< stable identifier within the dataset (e.g. the relative image path)
  std::int64_t numeric_id = -1;  ///< COCO image id or VQA question id, where the format has one
  std::string image_path;     ///< the image file (or a locator the dataset's load_image understands)
  std::string label_name;     ///< relative path without extension in the label layout, e.g. "val2014/COCO_..._42"
  std::string label_subdir;   ///< this sample's label folder when it is not Dataset::label_subdir() (mixed lists)
  std::map<std::string, std::string> text;  ///< e.g. {"caption": ...} or {"question": ...}
  std::vector<std::string> answers;         ///< VQA answers (training) or reference captions (evaluation)
  std::vector<float> answer_weights;        ///< one weight per answer
};

}  // namespace prismer
