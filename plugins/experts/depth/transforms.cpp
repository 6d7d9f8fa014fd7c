#include "transforms.h"

#include "dpt.h"

#include <prismer/data/image_tensor.h>
#include <prismer/data/resize.h>

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace F = torch::nn::functional;

namespace prismer::experts::depth {

torch::Tensor preprocess(const Image& rgb, int size) {
  if (rgb.empty() || rgb.channels != 3)
    throw std::invalid_argument("depth: expected a non-empty RGB image, got " + std::to_string(rgb.width) + "x" +
                                std::to_string(rgb.height) + " with " + std::to_string(rgb.channels) + " channels");
  const Image resized = data::resize(rgb, size, size, data::Resample::bilinear);
  return data::to_tensor(resized).sub(0.5).div(0.5);
}

torch::Tensor depth_label_values(const torch::Tensor& inverse_depth, int width, int height) {
  if (inverse_depth.dim() != 2) throw std::invalid_argument("depth_label: expected an inverse-depth map [h, w]");
  if (width <= 0 || height <= 0) throw std::invalid_argument("depth_label: the label size must be positive");
  const torch::Tensor d = inverse_depth.to(torch::kCPU, torch::kFloat32);
  // Same float32 tensor operations as the original: (d - min) / (max - min), interpolate, 255 * d.
  torch::Tensor n = (d - d.min()) / (d.max() - d.min());
  n = F::interpolate(n.unsqueeze(0).unsqueeze(0), F::InterpolateFuncOptions()
                                                      .size(std::vector<std::int64_t>{height, width})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(true));
  return n.reshape({height, width}).mul(255).contiguous();
}

Image depth_label(const torch::Tensor& inverse_depth, int width, int height) {
  const torch::Tensor v = depth_label_values(inverse_depth, width, height);
  Image label(width, height, 1);
  const float* src = v.data_ptr<float>();
  for (std::size_t i = 0; i < label.pixels.size(); ++i) {
    const float x = src[i];
    // Pillow's F -> L conversion (f2l): clip at both ends, truncate in between; NaN -> 0.
    label.pixels[i] = std::isnan(x) || x <= 0.0f ? 0 : x >= 255.0f ? 255 : static_cast<std::uint8_t>(x);
  }
  return label;
}

torch::Tensor predict_inverse_depth(DptDepthModelImpl& model, const std::vector<Image>& images,
                                    const torch::Device& device, int size) {
  if (images.empty()) return torch::empty({0, size, size});
  std::vector<torch::Tensor> inputs;
  inputs.reserve(images.size());
  for (const Image& image : images) inputs.push_back(preprocess(image, size));
  torch::InferenceMode guard;
  return model.forward(torch::stack(inputs).to(device)).to(torch::kCPU, torch::kFloat32);
}

}  // namespace prismer::experts::depth
