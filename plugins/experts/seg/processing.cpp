#include "processing.h"

#include "mask2former.h"

#include <prismer/data/image_tensor.h>
#include <prismer/data/resize.h>

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace prismer::experts::seg {

std::pair<int, int> resized_size(int width, int height, int size, int max_size) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("seg: empty image");
  const bool portrait = width <= height;
  const int short_side = portrait ? width : height, long_side = portrait ? height : width;
  int new_short = size;
  // Python: int(size * long / short) in double precision, truncated.
  int new_long = static_cast<int>(static_cast<double>(size) * long_side / short_side);
  if (new_long > max_size) {
    new_short = static_cast<int>(static_cast<double>(max_size) * new_short / new_long);
    new_long = max_size;
  }
  return portrait ? std::make_pair(new_short, new_long) : std::make_pair(new_long, new_short);
}

torch::Tensor model_input(const Image& rgb, bool bgr, int size, int max_size) {
  if (rgb.empty() || rgb.channels != 3)
    throw std::invalid_argument("seg: expected a non-empty RGB image, got " + std::to_string(rgb.width) + "x" +
                                std::to_string(rgb.height) + " with " + std::to_string(rgb.channels) + " channels");
  const auto [w, h] = resized_size(rgb.width, rgb.height, size, max_size);
  const Image resized = (w == rgb.width && h == rgb.height) ? rgb : data::resize(rgb, w, h, data::Resample::bilinear);
  torch::Tensor chw = data::image_to_u8_chw(resized).to(torch::kFloat32);
  return bgr ? chw.flip(0).contiguous() : chw;
}

Image argmax_label(const torch::Tensor& scores) {
  if (scores.dim() != 3) throw std::invalid_argument("seg: expected class scores [K, H, W]");
  if (scores.size(0) > 256) throw std::invalid_argument("seg: more than 256 classes do not fit an 8-bit label");
  const torch::Tensor labels = scores.argmax(0).to(torch::kCPU, torch::kUInt8).contiguous();
  Image out(static_cast<int>(scores.size(2)), static_cast<int>(scores.size(1)), 1);
  std::copy_n(labels.data_ptr<std::uint8_t>(), out.pixels.size(), out.pixels.begin());
  return out;
}

Image predict_label(Mask2FormerImpl& model, const Image& rgb, const torch::Device& device, bool bgr) {
  const torch::Tensor input = model_input(rgb, bgr).to(device);
  torch::InferenceMode guard;
  return argmax_label(semantic_segmentation(model, input, rgb.height, rgb.width));
}

}  // namespace prismer::experts::seg
