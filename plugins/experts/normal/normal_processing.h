// Pre- and post-processing of Prismer's normal expert (experts/model_bank.py + experts/generate_normal.py).
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

namespace prismer::normal {

/// The network's input size: torchvision Resize([480, 480]).
inline constexpr int kInputSize = 480;

/// ImageNet statistics of the original's transforms.Normalize.
inline constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};

/// One RGB image as the original transform makes it: Pillow-exact bilinear resize to `size` x `size`, ToTensor
/// (byte / 255), Normalize with the ImageNet mean/std. Returns float32 [3, size, size]. Throws
/// std::invalid_argument for a non-RGB or empty image.
torch::Tensor preprocess(const Image& rgb, int size = kInputSize);

/// The label the original writes from one prediction `normals` [>= 3, h, w] (channels 0..2 = xyz; the res1
/// output): `((n + 1) * 0.5).clip(0, 1)`, bilinear (align_corners) to `height` x `width`, `* 255` truncated to
/// uint8. Returns an RGB image of that size (computed on `normals`' device).
Image postprocess(const torch::Tensor& normals, int width, int height);

}  // namespace prismer::normal
