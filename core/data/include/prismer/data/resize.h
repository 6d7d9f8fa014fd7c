// Pillow-exact image resizing (Pillow 9.4 `Image.resize`, as torchvision 0.14 `F.resize` calls it on PIL images).
#pragma once

#include <prismer/image.h>

#include <string>

namespace prismer::data {

/// The resampling filters Prismer's data code uses.
enum class Resample {
  nearest,   ///< Pillow NEAREST (affine scale with an accumulated source position): labels
  bilinear,  ///< Pillow BILINEAR, antialiased (support scaled when downscaling): expert preprocessing
  bicubic,   ///< Pillow BICUBIC (a = -0.5), antialiased: the RGB image
};

/// Parses "nearest", "bilinear" or "bicubic" (case-insensitive); throws std::invalid_argument otherwise.
Resample parse_resample(const std::string& name);
/// The lower-case name of a filter.
const char* resample_name(Resample filter);

/// Resizes an 8-bit image (any channel count, channels independent) to `width` x `height` exactly as
/// Pillow 9.4's `Image.resize((width, height), filter)` does for 'L' / 'RGB' images: separable fixed-point
/// convolution (22 fractional bits, horizontal pass first into a uint8 temporary, each pass only when its
/// size changes) for bilinear/bicubic; accumulated-position nearest neighbour for nearest. Same size: a copy.
/// Throws std::invalid_argument for non-positive sizes or an empty input.
Image resize(const Image& image, int width, int height, Resample filter);

}  // namespace prismer::data
