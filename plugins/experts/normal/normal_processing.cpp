#include "normal_processing.h"

#include <prismer/data/image_tensor.h>
#include <prismer/data/resize.h>

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace prismer::normal {

torch::Tensor preprocess(const Image& rgb, int size) {
  if (rgb.empty() || rgb.channels != 3)
    throw std::invalid_argument("normal: expected a non-empty RGB image, got " + std::to_string(rgb.width) + "x" +
                                std::to_string(rgb.height) + " with " + std::to_string(rgb.channels) + " channels");
  const torch::Tensor x = data::to_tensor(data::resize(rgb, size, size, data::Resample::bilinear));
  const torch::Tensor mean = torch::tensor({kImageNetMean[0], kImageNetMean[1], kImageNetMean[2]}).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}).view({3, 1, 1});
  return x.sub(mean).div(std);  // torchvision normalize: (x - mean) / std in float32
}

Image postprocess(const torch::Tensor& normals, int width, int height) {
  if (normals.dim() != 3 || normals.size(0) < 3)
    throw std::invalid_argument("normal: postprocess expects a [>=3, H, W] prediction");
  torch::Tensor n = ((normals.slice(0, 0, 3) + 1) * 0.5).clip(0, 1);
  n = torch::nn::functional::interpolate(
      n.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                          .size(std::vector<std::int64_t>{height, width})
                          .mode(torch::kBilinear)
                          .align_corners(true));
  // numpy astype(uint8) truncates; the values are in [0, 255] after the clip, where the tensor cast does the same.
  const torch::Tensor u8 = (n[0] * 255).permute({1, 2, 0}).to(torch::kUInt8).to(torch::kCPU);
  return data::image_from_u8_hwc(u8);
}

}  // namespace prismer::normal
