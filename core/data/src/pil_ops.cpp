// Pillow 9.4 geometry (Geometry.c affine paths), ImageOps and ImageEnhance restated for 8-bit images.
#include "prismer/data/pil_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace prismer::data {

namespace {

void check_image(const Image& im, const char* what) {
  if (im.width <= 0 || im.height <= 0 || im.channels <= 0 ||
      im.pixels.size() != static_cast<std::size_t>(im.width) * im.height * im.channels)
    throw std::invalid_argument(std::string(what) + ": empty or inconsistent image");
}

Image filled(int w, int h, int c, const std::array<std::uint8_t, 4>& fill) {
  Image out(w, h, c);
  for (std::size_t p = 0, n = static_cast<std::size_t>(w) * h; p < n; ++p)
    for (int ch = 0; ch < c; ++ch) out.pixels[p * c + ch] = fill[std::min(ch, 3)];
  return out;
}

inline int coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }

/// Pillow FIX(): 16.16 fixed point with rounding.
inline std::int64_t fix(double v) { return static_cast<std::int64_t>(std::floor(v * 65536.0 + 0.5)); }

/// Python round(x, 15): the correctly rounded 15-decimal value (glibc printf rounds the exact binary value).
double round15(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", x);
  return std::strtod(buf, nullptr);
}

}  // namespace

Image crop(const Image& image, int i, int j, int h, int w) {
  check_image(image, "crop");
  if (h <= 0 || w <= 0) throw std::invalid_argument("crop: empty box");
  const int c = image.channels;
  Image out(w, h, c, 0);
  for (int y = 0; y < h; ++y) {
    const int sy = i + y;
    if (sy < 0 || sy >= image.height) continue;
    for (int x = 0; x < w; ++x) {
      const int sx = j + x;
      if (sx < 0 || sx >= image.width) continue;
      for (int ch = 0; ch < c; ++ch) out.at(y, x, ch) = image.at(sy, sx, ch);
    }
  }
  return out;
}

Image hflip(const Image& image) {
  check_image(image, "hflip");
  Image out(image.width, image.height, image.channels);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int ch = 0; ch < image.channels; ++ch) out.at(y, x, ch) = image.at(y, image.width - 1 - x, ch);
  return out;
}

Image affine_transform(const Image& image, const std::array<double, 6>& a, AffineResample resample,
                       const std::array<std::uint8_t, 4>& fill) {
  check_image(image, "affine_transform");
  const int W = image.width, H = image.height, C = image.channels;
  Image out = filled(W, H, C, fill);
  if (resample == AffineResample::bilinear) {
    for (int y = 0; y < H; ++y) {
      for (int x = 0; x < W; ++x) {
        const double xin = x + 0.5, yin = y + 0.5;
        double X = a[0] * xin + a[1] * yin + a[2];
        double Y = a[3] * xin + a[4] * yin + a[5];
        if (X < 0.0 || X >= W || Y < 0.0 || Y >= H) continue;
        X -= 0.5;
        Y -= 0.5;
        const int x0 = static_cast<int>(std::floor(X)), y0 = static_cast<int>(std::floor(Y));
        const double dx = X - x0, dy = Y - y0;
        const int xa = std::clamp(x0, 0, W - 1), xb = std::clamp(x0 + 1, 0, W - 1);
        const int ya = std::clamp(y0, 0, H - 1);
        const bool second_row = y0 + 1 >= 0 && y0 + 1 < H;
        for (int ch = 0; ch < C; ++ch) {
          const double p0 = image.at(ya, xa, ch), p1 = image.at(ya, xb, ch);
          double v1 = p0 + (p1 - p0) * dx;
          if (second_row) {
            const double q0 = image.at(y0 + 1, xa, ch), q1 = image.at(y0 + 1, xb, ch);
            const double v2 = q0 + (q1 - q0) * dx;
            v1 = v1 + (v2 - v1) * dy;
          }
          out.at(y, x, ch) = static_cast<std::uint8_t>(v1);
        }
      }
    }
    return out;
  }
  if (a[1] == 0.0 && a[3] == 0.0) {  // Pillow's ImagingScaleAffine
    std::vector<int> xs(W), ys(H);
    double xo = a[2] + a[0] * 0.5;
    for (int x = 0; x < W; ++x, xo += a[0]) xs[x] = coord(xo);
    double yo = a[5] + a[4] * 0.5;
    for (int y = 0; y < H; ++y, yo += a[4]) ys[y] = coord(yo);
    for (int y = 0; y < H; ++y) {
      if (ys[y] < 0 || ys[y] >= H) continue;
      for (int x = 0; x < W; ++x) {
        if (xs[x] < 0 || xs[x] >= W) continue;
        for (int ch = 0; ch < C; ++ch) out.at(y, x, ch) = image.at(ys[y], xs[x], ch);
      }
    }
    return out;
  }
  // Pillow's affine_fixed (16.16).
  const std::int64_t a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
  std::int64_t xx0 = fix(a[2] + a[1] * 0.5 + a[0] * 0.5);
  std::int64_t yy0 = fix(a[5] + a[4] * 0.5 + a[3] * 0.5);
  for (int y = 0; y < H; ++y, xx0 += a1, yy0 += a4) {
    std::int64_t xx = xx0, yy = yy0;
    for (int x = 0; x < W; ++x, xx += a0, yy += a3) {
      const std::int64_t xin = xx >> 16, yin = yy >> 16;  // arithmetic shift
      if (xin < 0 || xin >= W || yin < 0 || yin >= H) continue;
      for (int ch = 0; ch < C; ++ch) out.at(y, x, ch) = image.at(static_cast<int>(yin), static_cast<int>(xin), ch);
    }
  }
  return out;
}

std::array<double, 6> rotation_data(double angle_degrees, int width, int height) {
  double angle = std::fmod(angle_degrees, 360.0);
  if (angle < 0) angle += 360.0;  // Python float %: sign of the divisor
  const double t = -(angle * (M_PI / 180.0));
  std::array<double, 6> m = {round15(std::cos(t)), round15(std::sin(t)), 0.0, round15(-std::sin(t)), round15(std::cos(t)), 0.0};
  const double cx = width / 2.0, cy = height / 2.0;
  m[2] = m[0] * -cx + m[1] * -cy + m[2];
  m[5] = m[3] * -cx + m[4] * -cy + m[5];
  m[2] += cx;
  m[5] += cy;
  return m;
}

Image rotate(const Image& image, double angle_degrees, AffineResample resample, const std::array<std::uint8_t, 4>& fill) {
  double angle = std::fmod(angle_degrees, 360.0);
  if (angle < 0) angle += 360.0;
  if (angle == 0.0) return image;
  // Pillow's transpose shortcuts: 180 always, 90 / 270 for square images (counter-clockwise, as the angle).
  const int W = image.width, H = image.height;
  if (angle == 180.0 || ((angle == 90.0 || angle == 270.0) && W == H)) {
    check_image(image, "rotate");
    Image out(W, H, image.channels);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const int sy = angle == 180.0 ? H - 1 - y : angle == 90.0 ? x : W - 1 - x;
        const int sx = angle == 180.0 ? W - 1 - x : angle == 90.0 ? W - 1 - y : y;
        for (int ch = 0; ch < image.channels; ++ch) out.at(y, x, ch) = image.at(sy, sx, ch);
      }
    return out;
  }
  return affine_transform(image, rotation_data(angle_degrees, image.width, image.height), resample, fill);
}

Image autocontrast(const Image& image) {
  check_image(image, "autocontrast");
  const int C = image.channels;
  Image out = image;
  for (int ch = 0; ch < C; ++ch) {
    int lo = 256, hi = -1;
    for (std::size_t p = ch; p < image.pixels.size(); p += C) {
      lo = std::min<int>(lo, image.pixels[p]);
      hi = std::max<int>(hi, image.pixels[p]);
    }
    std::array<std::uint8_t, 256> lut;
    if (hi <= lo) {
      for (int v = 0; v < 256; ++v) lut[v] = static_cast<std::uint8_t>(v);
    } else {
      const double scale = 255.0 / (hi - lo);
      const double offset = -lo * scale;
      for (int v = 0; v < 256; ++v) {
        const double f = v * scale + offset;
        const long long iv = static_cast<long long>(f);  // Python int(): truncation
        lut[v] = static_cast<std::uint8_t>(std::clamp<long long>(iv, 0, 255));
      }
    }
    for (std::size_t p = ch; p < out.pixels.size(); p += C) out.pixels[p] = lut[out.pixels[p]];
  }
  return out;
}

Image equalize(const Image& image) {
  check_image(image, "equalize");
  const int C = image.channels;
  Image out = image;
  for (int ch = 0; ch < C; ++ch) {
    std::array<long long, 256> h{};
    for (std::size_t p = ch; p < image.pixels.size(); p += C) ++h[image.pixels[p]];
    std::vector<long long> histo;
    for (long long v : h)
      if (v) histo.push_back(v);
    std::array<std::uint8_t, 256> lut;
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<std::uint8_t>(v);
    if (histo.size() > 1) {
      long long total = 0;
      for (long long v : histo) total += v;
      const long long step = (total - histo.back()) / 255;
      if (step != 0) {
        long long n = step / 2;
        for (int i = 0; i < 256; ++i) {
          lut[i] = static_cast<std::uint8_t>(std::min<long long>(n / step, 255));
          n += h[i];
        }
      }
    }
    for (std::size_t p = ch; p < out.pixels.size(); p += C) out.pixels[p] = lut[out.pixels[p]];
  }
  return out;
}

Image blend(const Image& a, const Image& b, double alpha_in) {
  check_image(a, "blend");
  check_image(b, "blend");
  if (a.width != b.width || a.height != b.height || a.channels != b.channels)
    throw std::invalid_argument("blend: images differ in size or channels");
  const float alpha = static_cast<float>(alpha_in);
  if (alpha == 0.0f) return a;
  if (alpha == 1.0f) return b;
  Image out(a.width, a.height, a.channels);
  for (std::size_t i = 0; i < out.pixels.size(); ++i) {
    const int p = a.pixels[i], q = b.pixels[i];
    const float t = static_cast<float>(p) + alpha * static_cast<float>(q - p);
    out.pixels[i] = t <= 0.0f ? 0 : t >= 255.0f ? 255 : static_cast<std::uint8_t>(t);
  }
  return out;
}

Image smooth(const Image& image) {
  check_image(image, "smooth");
  const int W = image.width, H = image.height, C = image.channels;
  Image out = image;
  if (W < 3 || H < 3) return out;
  const float one = 1.0f / 13.0f, five = 5.0f / 13.0f;  // float32(k) / float32(13)
  // Pillow applies kernel[0..2] to row y+1, kernel[3..5] to row y, kernel[6..8] to row y-1.
  const float kk[9] = {one, one, one, one, five, one, one, one, one};
  auto row = [&](int y, int x, int ch, const float* kr) {
    return (static_cast<float>(image.at(y, x - 1, ch)) * kr[0] + static_cast<float>(image.at(y, x, ch)) * kr[1]) +
           static_cast<float>(image.at(y, x + 1, ch)) * kr[2];
  };
  for (int y = 1; y < H - 1; ++y) {
    for (int x = 1; x < W - 1; ++x) {
      for (int ch = 0; ch < C; ++ch) {
        float ss = 0.5f;
        ss += row(y + 1, x, ch, &kk[0]);
        ss += row(y, x, ch, &kk[3]);
        ss += row(y - 1, x, ch, &kk[6]);
        out.at(y, x, ch) = ss <= 0.0f ? 0 : ss >= 255.0f ? 255 : static_cast<std::uint8_t>(ss);
      }
    }
  }
  return out;
}

Image brightness(const Image& image, double factor) {
  return blend(Image(image.width, image.height, image.channels, 0), image, factor);
}

Image sharpness(const Image& image, double factor) { return blend(smooth(image), image, factor); }

}  // namespace prismer::data
