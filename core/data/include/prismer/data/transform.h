// The original `Transform(train=False)` and `post_label_process` (dataset/utils.py).
#pragma once

#include <prismer/data/randaugment.h>
#include <prismer/image.h>

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer::data {

/// An image and labels after the Transform, before post_label_process.
struct TransformedSample {
  torch::Tensor rgb;                                         ///< float32 [3, R, R], CLIP-normalised
  std::vector<std::pair<std::string, torch::Tensor>> labels; ///< depth/normal/edge: float32 [C,224,224] = byte/255;
                                                             ///< semantic experts: int64 ids [1,224,224]
};

/// Eval-time resizing: the image with Pillow BICUBIC to `resolution` x `resolution`, each label with
/// Pillow NEAREST to 224 x 224 (the uint8 data right before to_tensor).
std::pair<Image, std::vector<std::pair<std::string, Image>>> resize_eval(
    const Image& image, const std::vector<std::pair<std::string, Image>>& labels, int resolution);

/// to_tensor + normalisation of a resized image and its labels (the tail of the original Transform):
/// rgb = normalize_clip(to_tensor); depth/normal/edge = to_tensor; others = int64 byte ids.
TransformedSample to_tensors(const Image& image, const std::vector<std::pair<std::string, Image>>& labels);

/// `Transform(resize_resolution=resolution, train=False)(image, labels)`.
TransformedSample transform_eval(const Image& image, const std::vector<std::pair<std::string, Image>>& labels,
                                 int resolution);

}  // namespace prismer::data
