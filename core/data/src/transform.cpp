// Transform(train=False) of the original dataset/utils.py: Pillow resizes, to_tensor, CLIP normalisation.
#include "prismer/data/transform.h"

#include <torch/torch.h>

#include <stdexcept>

#include "prismer/data/image_tensor.h"
#include "prismer/data/resize.h"

namespace prismer::data {

namespace {

bool is_dense(const std::string& expert) { return expert == "depth" || expert == "normal" || expert == "edge"; }

}  // namespace

std::pair<Image, std::vector<std::pair<std::string, Image>>> resize_eval(
    const Image& image, const std::vector<std::pair<std::string, Image>>& labels, int resolution) {
  std::pair<Image, std::vector<std::pair<std::string, Image>>> out;
  out.first = resize(image, resolution, resolution, Resample::bicubic);
  for (const auto& [name, map] : labels) out.second.emplace_back(name, resize(map, kLabelSize, kLabelSize, Resample::nearest));
  return out;
}

TransformedSample to_tensors(const Image& image, const std::vector<std::pair<std::string, Image>>& labels) {
  if (image.channels != 3) throw std::invalid_argument("Transform: the image must be RGB");
  TransformedSample s;
  s.rgb = normalize_clip(to_tensor(image));
  for (const auto& [name, map] : labels) {
    if (is_dense(name)) s.labels.emplace_back(name, to_tensor(map));
    else s.labels.emplace_back(name, image_to_u8_chw(map).to(torch::kInt64));  // (to_tensor * 255).long() == byte
  }
  return s;
}

TransformedSample transform_eval(const Image& image, const std::vector<std::pair<std::string, Image>>& labels,
                                 int resolution) {
  const auto resized = resize_eval(image, labels, resolution);
  return to_tensors(resized.first, resized.second);
}

}  // namespace prismer::data
