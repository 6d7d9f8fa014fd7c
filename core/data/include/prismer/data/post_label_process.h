// The original `post_label_process` (dataset/utils.py): labels -> backbone inputs.
#pragma once

#include <prismer/data/clip_features.h>
#include <prismer/data/expert_labels.h>
#include <prismer/data/transform.h>

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer::data {

/// One expert's backbone input after post_label_process.
struct ExpertInput {
  torch::Tensor value;     ///< depth/normal/edge: float32 [C,224,224] in [-1,1]; semantic: float32 [64,224,224]
  torch::Tensor instance;  ///< obj_detection only: int64 [1,224,224] instance ids; undefined otherwise
};

/// `post_label_process`: depth/normal/edge min-max to [-1, 1] (float32, eps 1e-6, over the whole tensor);
/// seg_coco / seg_ade / obj_detection / ocr_detection in-painted with the 64-d CLIP feature of each id (255 =
/// background). Throws std::runtime_error for an id with no feature (the original's KeyError / IndexError).
std::vector<std::pair<std::string, ExpertInput>> post_label_process(const TransformedSample& sample,
                                                                    const LabelInfo& info,
                                                                    const ClipFeatures& features);

/// The per-id feature table [256, 64] an expert's ids are in-painted with; rows of ids without a feature are
/// NaN. `ids_present` ([256] bool) marks the ids that must have one.
torch::Tensor semantic_feature_table(const std::string& expert, const LabelInfo& info, const ClipFeatures& features,
                                     const std::vector<bool>& ids_present);

}  // namespace prismer::data
