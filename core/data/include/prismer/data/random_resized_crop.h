// torchvision 0.14 RandomResizedCrop.get_params with a C++ random engine (same distribution, own draws).
#pragma once

#include <array>
#include <random>

namespace prismer::data {

/// A crop box (top row i, left column j, height h, width w) and how it was found.
struct CropBox {
  int i = 0, j = 0, h = 0, w = 0;
  int attempts = 0;       ///< the accepted attempt (1..10), 0 for the central fallback
};

/// `RandomResizedCrop.get_params(img, scale, ratio)` for an image of `height` x `width`: up to 10 attempts of
/// area fraction U(scale) (float32 draw) and log-aspect U(log ratio) (float32), w/h rounded half to even, accepted
/// when they fit, position uniform; else the central crop clamped to the ratio range.
CropBox random_resized_crop_params(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio,
                                   std::mt19937_64& rng);

}  // namespace prismer::data
