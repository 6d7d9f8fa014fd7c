// to_tensor / normalize with the same float32 operations as torchvision 0.14.
#include "prismer/data/image_tensor.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

namespace prismer::data {

torch::Tensor image_to_u8_chw(const Image& image) {
  torch::Tensor hwc = torch::empty({image.height, image.width, image.channels}, torch::kUInt8);
  std::memcpy(hwc.data_ptr<std::uint8_t>(), image.pixels.data(), image.pixels.size());
  return hwc.permute({2, 0, 1}).contiguous();
}

Image image_from_u8_hwc(const torch::Tensor& tensor) {
  if (tensor.scalar_type() != torch::kUInt8 || (tensor.dim() != 2 && tensor.dim() != 3))
    throw std::invalid_argument("image_from_u8_hwc: expected a uint8 [H, W] or [H, W, C] tensor");
  const torch::Tensor c = tensor.contiguous();
  Image img(static_cast<int>(c.size(1)), static_cast<int>(c.size(0)), c.dim() == 3 ? static_cast<int>(c.size(2)) : 1);
  std::memcpy(img.pixels.data(), c.data_ptr<std::uint8_t>(), img.pixels.size());
  return img;
}

torch::Tensor to_tensor(const Image& image) { return image_to_u8_chw(image).to(torch::kFloat32).div(255); }

torch::Tensor normalize_clip(const torch::Tensor& chw) {
  if (chw.dim() != 3 || chw.size(0) != 3) throw std::invalid_argument("normalize_clip: expected a [3, H, W] tensor");
  const torch::Tensor mean = torch::tensor({kClipMean[0], kClipMean[1], kClipMean[2]}, torch::kFloat32).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({kClipStd[0], kClipStd[1], kClipStd[2]}, torch::kFloat32).view({3, 1, 1});
  return chw.sub(mean).div(std);
}

}  // namespace prismer::data
