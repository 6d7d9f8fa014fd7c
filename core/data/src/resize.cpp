// Pillow 9.4 resampling (libImaging/Resample.c for bilinear/bicubic, the affine scale of Geometry.c for nearest),
// restated from the algorithm: same double-precision coefficients, same fixed point, same rounding and clipping.
#include "prismer/data/resize.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace prismer::data {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // 22 fractional bits for 8-bit channels

double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

double bilinear_kernel(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

/// Taps of one output sample: first source index and fixed-point weights.
struct Taps {
  std::vector<int> first;     ///< per output index
  std::vector<int> count;     ///< per output index
  std::vector<int> weights;   ///< out_size * stride
  int stride = 0;
};

Taps compute_taps(int in_size, int out_size, Resample filter) {
  const double support_unit = filter == Resample::bicubic ? 2.0 : 1.0;
  double (*kernel)(double) = filter == Resample::bicubic ? bicubic_kernel : bilinear_kernel;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = support_unit * filterscale;
  const double ss = 1.0 / filterscale;
  Taps t;
  t.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<std::size_t>(out_size) * t.stride, 0);
  std::vector<double> w(t.stride);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    const int n = std::min(xmax - xmin, t.stride);
    double sum = 0.0;
    for (int x = 0; x < n; ++x) {
      w[x] = kernel((x + xmin - center + 0.5) * ss);
      sum += w[x];
    }
    int* k = &t.weights[static_cast<std::size_t>(i) * t.stride];
    for (int x = 0; x < n; ++x) {
      const double v = sum != 0.0 ? w[x] / sum : w[x];
      const double f = v * (1 << kPrecisionBits);
      k[x] = v < 0 ? static_cast<int>(-0.5 + f) : static_cast<int>(0.5 + f);
    }
    t.first[i] = xmin;
    t.count[i] = std::max(n, 0);
  }
  return t;
}

inline std::uint8_t clip8(std::int32_t acc) {
  if (acc >= (1 << kPrecisionBits << 8)) return 255;
  if (acc <= 0) return 0;
  return static_cast<std::uint8_t>(acc >> kPrecisionBits);
}

Image resample_horizontal(const Image& in, int out_w, Resample filter) {
  const Taps t = compute_taps(in.width, out_w, filter);
  const int c = in.channels;
  Image out(out_w, in.height, c);
  for (int y = 0; y < in.height; ++y) {
    const std::uint8_t* row = &in.pixels[static_cast<std::size_t>(y) * in.width * c];
    std::uint8_t* dst = &out.pixels[static_cast<std::size_t>(y) * out_w * c];
    for (int x = 0; x < out_w; ++x) {
      const int* k = &t.weights[static_cast<std::size_t>(x) * t.stride];
      const int x0 = t.first[x];
      for (int ch = 0; ch < c; ++ch) {
        std::int32_t acc = 1 << (kPrecisionBits - 1);
        for (int j = 0; j < t.count[x]; ++j) acc += row[(x0 + j) * c + ch] * k[j];
        dst[x * c + ch] = clip8(acc);
      }
    }
  }
  return out;
}

Image resample_vertical(const Image& in, int out_h, Resample filter) {
  const Taps t = compute_taps(in.height, out_h, filter);
  const int c = in.channels;
  const std::size_t row_len = static_cast<std::size_t>(in.width) * c;
  Image out(in.width, out_h, c);
  std::vector<std::int32_t> acc(row_len);
  for (int y = 0; y < out_h; ++y) {
    const int* k = &t.weights[static_cast<std::size_t>(y) * t.stride];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int j = 0; j < t.count[y]; ++j) {
      const std::uint8_t* src = &in.pixels[static_cast<std::size_t>(t.first[y] + j) * row_len];
      const std::int32_t kj = k[j];
      for (std::size_t i = 0; i < row_len; ++i) acc[i] += src[i] * kj;
    }
    std::uint8_t* dst = &out.pixels[static_cast<std::size_t>(y) * row_len];
    for (std::size_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

/// Source indices of Pillow's affine scale: position a/2 accumulated by a = in/out per output sample.
std::vector<int> nearest_indices(int in_size, int out_size) {
  const double a = static_cast<double>(in_size) / out_size;
  std::vector<int> idx(out_size);
  double pos = a * 0.5;
  for (int i = 0; i < out_size; ++i) {
    int s = pos < 0 ? -1 : static_cast<int>(pos);
    idx[i] = std::clamp(s, 0, in_size - 1);  // always in range for a pure scale
    pos += a;
  }
  return idx;
}

Image resize_nearest(const Image& in, int out_w, int out_h) {
  const std::vector<int> xs = nearest_indices(in.width, out_w);
  const std::vector<int> ys = nearest_indices(in.height, out_h);
  const int c = in.channels;
  Image out(out_w, out_h, c);
  for (int y = 0; y < out_h; ++y) {
    const std::uint8_t* row = &in.pixels[static_cast<std::size_t>(ys[y]) * in.width * c];
    std::uint8_t* dst = &out.pixels[static_cast<std::size_t>(y) * out_w * c];
    for (int x = 0; x < out_w; ++x)
      for (int ch = 0; ch < c; ++ch) dst[x * c + ch] = row[xs[x] * c + ch];
  }
  return out;
}

}  // namespace

Resample parse_resample(const std::string& name) {
  std::string n;
  for (char ch : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (n == "nearest") return Resample::nearest;
  if (n == "bilinear") return Resample::bilinear;
  if (n == "bicubic") return Resample::bicubic;
  throw std::invalid_argument("unknown resampling filter '" + name + "' (expected nearest, bilinear or bicubic)");
}

const char* resample_name(Resample filter) {
  switch (filter) {
    case Resample::nearest: return "nearest";
    case Resample::bilinear: return "bilinear";
    case Resample::bicubic: return "bicubic";
  }
  return "?";
}

Image resize(const Image& image, int width, int height, Resample filter) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument("resize: output size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  if (image.empty() || image.width <= 0 || image.height <= 0 || image.channels <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels)
    throw std::invalid_argument("resize: empty or inconsistent input image");
  if (width == image.width && height == image.height) return image;
  if (filter == Resample::nearest) return resize_nearest(image, width, height);
  const bool horizontal = width != image.width;
  const bool vertical = height != image.height;
  if (horizontal && vertical) return resample_vertical(resample_horizontal(image, width, filter), height, filter);
  if (horizontal) return resample_horizontal(image, width, filter);
  return resample_vertical(image, height, filter);
}

}  // namespace prismer::data
