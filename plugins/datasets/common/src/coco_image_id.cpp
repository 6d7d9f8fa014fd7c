// train_caption.py's image id: basename, strip('.jpg') (a character set), last '_' field, int().
#include "prismer/datasets/coco_image_id.h"

#include <cctype>

namespace prismer::datasets {

std::optional<std::int64_t> coco_image_id(const std::string& image_path) {
  std::string base = image_path.substr(image_path.rfind('/') == std::string::npos ? 0 : image_path.rfind('/') + 1);
  auto stripped = [](char c) { return c == '.' || c == 'j' || c == 'p' || c == 'g'; };
  std::size_t b = 0, e = base.size();
  while (b < e && stripped(base[b])) ++b;
  while (e > b && stripped(base[e - 1])) --e;
  base = base.substr(b, e - b);
  const std::size_t us = base.rfind('_');
  std::string digits = us == std::string::npos ? base : base.substr(us + 1);
  // Python int() allows surrounding whitespace and a sign.
  while (!digits.empty() && std::isspace(static_cast<unsigned char>(digits.back()))) digits.pop_back();
  std::size_t p = 0;
  while (p < digits.size() && std::isspace(static_cast<unsigned char>(digits[p]))) ++p;
  bool negative = false;
  if (p < digits.size() && (digits[p] == '+' || digits[p] == '-')) negative = digits[p++] == '-';
  if (p == digits.size() || digits.size() - p > 18) return std::nullopt;
  std::int64_t v = 0;
  for (; p < digits.size(); ++p) {
    if (!std::isdigit(static_cast<unsigned char>(digits[p]))) return std::nullopt;
    v = v * 10 + (digits[p] - '0');
  }
  return negative ? -v : v;
}

}  // namespace prismer::datasets
