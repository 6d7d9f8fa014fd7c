// Images and expert labels as plain pixel buffers (no torch, no OpenCV in this header).
#pragma once

#include <prismer/export.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prismer {

/// An 8-bit image, rows top to bottom, channels interleaved (RGB order for colour images).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;  ///< height * width * channels bytes

  Image() = default;
  Image(int w, int h, int c, std::uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(static_cast<std::size_t>(w) * h * c, fill) {}
  bool empty() const { return pixels.empty(); }
  std::uint8_t& at(int y, int x, int c = 0) { return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c]; }
  std::uint8_t at(int y, int x, int c = 0) const { return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c]; }
};

/// One expert's label for one image, as stored on disk: a PNG map plus optional side files
/// (e.g. ".json" instance classes for detection, ".pt" word features for OCR), keyed by extension.
struct Label {
  Image map;
  std::map<std::string, std::string> sidecars;
};

/// Reads an image file as RGB (or grey with `channels` = 1). Throws std::runtime_error naming the file
/// when it is missing, unreadable or not an image.
PRISMER_API Image read_image(const std::string& path, int channels = 3);
/// Decodes an encoded image (JPEG, PNG...) held in memory; `name` is used in error messages.
PRISMER_API Image decode_image(const std::string& bytes, const std::string& name, int channels = 3);
/// Writes a PNG atomically (to a temporary name, then renamed), creating parent folders.
PRISMER_API void write_png(const std::string& path, const Image& image);
/// Writes an image atomically in the format its extension names (.png, .jpg/.jpeg).
PRISMER_API void write_image(const std::string& path, const Image& image);
/// Writes bytes atomically (temporary name, then rename), creating parent folders.
PRISMER_API void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace prismer
