// The depth expert's image -> network input and network output -> label file steps, as the original
// (experts/model_bank.py transform, experts/generate_depth.py) does them.
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

#include <vector>

namespace prismer::experts::depth {

class DptDepthModelImpl;

/// `Compose([Resize([size, size]), ToTensor(), Normalize(mean=0.5, std=0.5)])` on an RGB image: Pillow-exact
/// antialiased bilinear resize, byte / 255, then (x - 0.5) / 0.5 in float32. Returns [3, size, size].
/// Throws std::invalid_argument unless the image is a non-empty 3-channel image.
torch::Tensor preprocess(const Image& rgb, int size = 480);

/// generate_depth.py's float map for one inverse-depth map [h, w]: min-max to [0, 1] (float32 tensor operations),
/// bilinear resize (align_corners=True) to height x width, times 255. Returns float32 [height, width] on the CPU.
/// A constant map (max == min) divides 0 by 0, as in the original: all NaN.
torch::Tensor depth_label_values(const torch::Tensor& inverse_depth, int width, int height);

/// generate_depth.py's label: depth_label_values() through `Image.fromarray(v).convert('L')`, which truncates
/// (v <= 0 -> 0, v >= 255 -> 255, else (uint8)v); NaN becomes 0, as it does in Pillow on x86.
Image depth_label(const torch::Tensor& inverse_depth, int width, int height);

/// The network part of generate_depth.py for a batch: preprocess() each image, stack, forward on `device` without
/// autograd. Returns the inverse depth [B, size, size] as float32 on the CPU.
torch::Tensor predict_inverse_depth(DptDepthModelImpl& model, const std::vector<Image>& images,
                                    const torch::Device& device, int size = 480);

}  // namespace prismer::experts::depth
