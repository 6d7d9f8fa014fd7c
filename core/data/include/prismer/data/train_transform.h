// The random part of the original `Transform(train=True)`: crop, resize, flip, RandAugment(2, 5), with a C++
// random engine (the same distributions as torch / Python `random`, not the same draws).
#pragma once

#include <prismer/data/randaugment.h>
#include <prismer/data/random_resized_crop.h>
#include <prismer/image.h>

#include <array>
#include <random>
#include <utility>
#include <vector>

namespace prismer::data {

/// Every random choice of one train-time call (for logging and replay).
struct TrainDraws {
  CropBox crop;
  bool hflip = false;
  std::vector<std::pair<const AugmentOp*, double>> ops;  ///< op and the value applied (sign included)
};

/// Options of the train-time Transform.
struct TrainTransformOptions {
  int resolution = 384;                    ///< image side after the BICUBIC resize (labels always 224)
  std::array<double, 2> scale = {0.5, 1};  ///< RandomResizedCrop scale ([0.5, 1.5] for pretraining)
  int augment_n = 2;                       ///< RandAugment ops per sample
  int augment_m = 5;                       ///< RandAugment magnitude (0..10)
};

/// Replays a train-time call from its draws: crop (image and labels), image BICUBIC to `resolution`, labels NEAREST
/// to 224, optional hflip, then each op in order. Returns the image and labels right before to_tensor.
std::pair<Image, LabelMaps> apply_train_draws(const Image& image, const LabelMaps& labels, int resolution,
                                              const TrainDraws& draws);

/// Draws the random choices as the original does (get_params; flip iff U(0,1) > 0.5; `n` ops chosen uniformly
/// with replacement; a geometric op negated iff U(0,1) > 0.5) for an image of `width` x `height`.
TrainDraws draw_train_params(int width, int height, const TrainTransformOptions& options, std::mt19937_64& rng);

}  // namespace prismer::data
