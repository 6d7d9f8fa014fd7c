// The seg expert's image -> model input and class scores -> label file steps, as Prismer's
// experts/segmentation/generate_dataset.py and experts/generate_segmentation.py do them.
#pragma once

#include <prismer/image.h>

#include <torch/types.h>

#include <utility>

namespace prismer::experts::seg {

class Mask2FormerImpl;

/// torchvision 0.14 `Resize(size, max_size)` output size (width, height) for a width x height image: the short
/// side to `size`, the long side int(size * long / short); if that exceeds max_size, the long side max_size and the
/// short side int(max_size * short / long).
std::pair<int, int> resized_size(int width, int height, int size = 479, int max_size = 480);

/// generate_dataset.py's model input: Pillow-exact bilinear Resize(479, max_size=480), then
/// `np.array(img)[:, :, ::-1]` when `bgr` (the original's quirk: the detectron2 config says RGB, yet the model
/// gets B, G, R and normalises them with the RGB means), as float32 [3, h, w] in 0..255.
/// Throws std::invalid_argument unless the image is a non-empty 3-channel image.
torch::Tensor model_input(const Image& rgb, bool bgr = true, int size = 479, int max_size = 480);

/// generate_segmentation.py's label: argmax over the classes of scores [K, H, W] (first maximum on ties), as an
/// 8-bit 1-channel image (`Image.fromarray(labels.float()).convert('L')` keeps 0..255 exactly).
/// Throws std::invalid_argument for more than 256 classes.
Image argmax_label(const torch::Tensor& scores);

/// One image end to end: model_input, semantic segmentation at the image's size on `device`, argmax.
Image predict_label(Mask2FormerImpl& model, const Image& rgb, const torch::Device& device, bool bgr = true);

}  // namespace prismer::experts::seg
