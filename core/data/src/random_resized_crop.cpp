// RandomResizedCrop.get_params (torchvision 0.14.1) restated with float32 draws like torch's uniform_.
#include "prismer/data/random_resized_crop.h"

#include <cfenv>
#include <cmath>

namespace prismer::data {

namespace {

float uniform_f32(std::mt19937_64& rng, float lo, float hi) {
  // 24 random bits -> [0, 1) float32, then lo + u * (hi - lo) as torch's CPU uniform_ does in float.
  const float u = static_cast<float>(rng() >> 40) * (1.0f / 16777216.0f);
  return u * (hi - lo) + lo;
}

int randint(std::mt19937_64& rng, int lo, int hi_inclusive) {
  std::uniform_int_distribution<int> d(lo, hi_inclusive);
  return d(rng);
}

int py_round(double v) { return static_cast<int>(std::nearbyint(v)); }  // round half to even (default mode)

}  // namespace

CropBox random_resized_crop_params(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio,
                                   std::mt19937_64& rng) {
  const double area = static_cast<double>(height) * width;
  const float log_r0 = std::log(static_cast<float>(ratio[0])), log_r1 = std::log(static_cast<float>(ratio[1]));
  for (int attempt = 1; attempt <= 10; ++attempt) {
    const double target_area = area * static_cast<double>(uniform_f32(rng, static_cast<float>(scale[0]), static_cast<float>(scale[1])));
    const double aspect = static_cast<double>(std::exp(uniform_f32(rng, log_r0, log_r1)));
    const int w = py_round(std::sqrt(target_area * aspect));
    const int h = py_round(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      CropBox b;
      b.i = randint(rng, 0, height - h);
      b.j = randint(rng, 0, width - w);
      b.h = h, b.w = w, b.attempts = attempt;
      return b;
    }
  }
  CropBox b;
  const double in_ratio = static_cast<double>(width) / height;
  if (in_ratio < ratio[0]) {
    b.w = width, b.h = py_round(b.w / ratio[0]);
  } else if (in_ratio > ratio[1]) {
    b.h = height, b.w = py_round(b.h * ratio[1]);
  } else {
    b.w = width, b.h = height;
  }
  b.i = (height - b.h) / 2, b.j = (width - b.w) / 2;
  b.attempts = 0;
  return b;
}

}  // namespace prismer::data
