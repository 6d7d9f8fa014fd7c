// Image <-> tensor conversions of the original Transform (torchvision to_tensor / normalize).
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

namespace prismer::data {

/// CLIP's normalisation constants (as the original Transform passes them to `normalize`).
inline constexpr float kClipMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
inline constexpr float kClipStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/// The bytes of an image as a uint8 tensor [C, H, W] (a copy).
torch::Tensor image_to_u8_chw(const Image& image);
/// A uint8 tensor [H, W, C] or [H, W] as an Image (a copy). Throws std::invalid_argument for other tensors.
Image image_from_u8_hwc(const torch::Tensor& tensor);
/// torchvision `to_tensor`: float32 [C, H, W] = byte / 255 (float32 division).
torch::Tensor to_tensor(const Image& image);
/// torchvision `normalize(x, kClipMean, kClipStd)`: (x - mean) / std per channel, float32.
torch::Tensor normalize_clip(const torch::Tensor& chw);

}  // namespace prismer::data
