// The CLIP text features the original in-paints semantic labels with (dataset/*_features.pt).
#pragma once

#include <torch/types.h>

#include <string>

namespace prismer::data {

/// COCO_FEATURES, ADE_FEATURES, DETECTION_FEATURES ([K, 64] float32) and BACKGROUND_FEATURES ([64]).
struct ClipFeatures {
  torch::Tensor coco;
  torch::Tensor ade;
  torch::Tensor detection;
  torch::Tensor background;
};

/// Loads `coco_features.pt`, `ade_features.pt`, `detection_features.pt` (torch.save of
/// {'labels': [...], 'features': Tensor}) and `background_features.pt` (a bare tensor) from `dir`.
/// Throws std::runtime_error naming the file when one is missing or malformed.
ClipFeatures load_clip_features(const std::string& dir);

}  // namespace prismer::data
