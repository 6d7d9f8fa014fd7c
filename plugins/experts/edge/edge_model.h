// The edge expert end to end (experts/generate_edge.py + experts/edge/*): preprocessing, DexiNed, fuse_edge and
// the resize back to the image size, plus strict loading of the official `10_model.pth`.
#pragma once

#include "dexined.h"

#include <prismer/image.h>
#include <prismer/weights.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace prismer::edge {

/// The network input side (the original resizes every image to 480x480).
inline constexpr int kInputSize = 480;

/// The original transform for one RGB image: Pillow-exact bilinear resize to 480x480, ToTensor,
/// Normalize(mean=[.485, .456, .406], std=1), channels flipped to BGR, x255. Returns float32 [3, 480, 480].
torch::Tensor preprocess(const Image& rgb, int size = kInputSize);

/// fuse_edge for one image: sigmoid of the fused logits [H, W] (output 6), numpy-exact min-max to 0..255 in float32
/// (denominator (max - min) + 1e-12 in float64, then float32), truncation to uint8, inverted (edges dark).
Image fuse_edge(const torch::Tensor& logits);

/// The label file content: `fuse` resized to width x height with Pillow's bilinear filter (as the original saves it).
Image label_from_fuse(const Image& fuse, int width, int height);

/// Copies a state_dict into `model` by name. Every missing, unexpected or mis-shaped key is reported by name in one
/// std::runtime_error that starts with `source` (the file); nothing is copied then. Values are cast to the model's
/// dtypes (the reference's load_state_dict copies the same way).
void load_state_dict_strict(torch::nn::Module& model, const TensorMap& weights, const std::string& source);

/// DexiNed weights from a file the way experts/model_bank.py reads `10_model.pth`: a plain state_dict
/// (torch.load + load_state_dict, strict). Any container prismer::load_weights reads is accepted.
void load_dexined(DexiNed& model, const std::string& path);

/// Seeded random initialisation in the spirit of the reference's weight_init (xavier-normal convolutions, zero biases,
/// unit BN): for running the expert without its weights (tests, conformance). Deterministic for a seed.
void init_random(DexiNed& model, std::uint64_t seed);

/// The labels of a batch: preprocess, one forward on `device`, fuse_edge, resize back. Images may differ in size.
std::vector<Image> predict_labels(DexiNed& model, const std::vector<Image>& images, const torch::Device& device);

}  // namespace prismer::edge
