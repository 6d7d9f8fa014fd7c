// Pillow 9.4 image operations the train-time Transform uses (crop, flip, affine transform, rotate,
// ImageOps.autocontrast / equalize, ImageEnhance.Brightness / Sharpness), bit-exact on 8-bit images.
#pragma once

#include <prismer/image.h>

#include <array>
#include <cstdint>

namespace prismer::data {

/// `transforms_f.crop(x, i, j, h, w)` = `x.crop((j, i, j + w, i + h))`: rows i..i+h-1, columns j..j+w-1; parts of the
/// box outside the image are 0, as Pillow pads.
Image crop(const Image& image, int i, int j, int h, int w);
/// `hflip` = `transpose(FLIP_LEFT_RIGHT)`: columns reversed.
Image hflip(const Image& image);

/// Resampling of `affine_transform` (only the two Prismer uses).
enum class AffineResample { nearest, bilinear };

/// `img.transform(img.size, Image.AFFINE, data, resample, fillcolor=fill)`: output pixel (x, y) reads the input at
/// (a0 x' + a1 y' + a2, a3 x' + a4 y' + a5) with x' = x + 0.5, y' = y + 0.5; pixels whose source is outside keep
/// `fill` (one value per channel). NEAREST uses Pillow's accumulated scale path when a1 == a3 == 0 and its 16.16
/// fixed-point path otherwise; BILINEAR interpolates in double and truncates.
Image affine_transform(const Image& image, const std::array<double, 6>& data, AffineResample resample,
                       const std::array<std::uint8_t, 4>& fill);
/// The affine data `Image.rotate(angle)` passes (expand=0, centre = (w/2, h/2)), coefficients rounded to 15 decimals.
std::array<double, 6> rotation_data(double angle_degrees, int width, int height);
/// `img.rotate(angle, resample, fillcolor=fill)` (no expand): 0 (mod 360) is a copy, 180 (and 90 / 270 on square
/// images) the exact transposes Pillow takes as shortcuts, anything else the affine path.
Image rotate(const Image& image, double angle_degrees, AffineResample resample, const std::array<std::uint8_t, 4>& fill);

/// `ImageOps.autocontrast(img)` (cutoff 0): per channel, the darkest value present to 0 and the lightest to 255.
Image autocontrast(const Image& image);
/// `ImageOps.equalize(img)`: per-channel histogram equalisation (Pillow's LUT, values clipped to 255).
Image equalize(const Image& image);
/// `Image.blend(a, b, alpha)` with alpha cast to float32 (0 -> copy of a, 1 -> copy of b, else clipped to 0..255).
Image blend(const Image& a, const Image& b, double alpha);
/// `img.filter(ImageFilter.SMOOTH)`: the 3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 in float32; border pixels copied.
Image smooth(const Image& image);
/// `ImageEnhance.Brightness(img).enhance(factor)` = blend(black, img, factor).
Image brightness(const Image& image, double factor);
/// `ImageEnhance.Sharpness(img).enhance(factor)` = blend(smooth(img), img, factor).
Image sharpness(const Image& image, double factor);

}  // namespace prismer::data
