// RandAugment ops of the original dataset/randaugment.py on top of the Pillow restatements in pil_ops.
#include "prismer/data/randaugment.h"

#include <stdexcept>

#include "prismer/data/pil_ops.h"

namespace prismer::data {

const std::array<AugmentOp, 10>& augment_list() {
  static const std::array<AugmentOp, 10> ops = {{
      {"Identity", 0.0, 1.0, false},
      {"ShearX", 0.0, 0.3, true},
      {"ShearY", 0.0, 0.3, true},
      {"TranslateX", 0.0, 0.33, true},
      {"TranslateY", 0.0, 0.33, true},
      {"Rotate", 0.0, 30.0, true},
      {"AutoContrast", 0.0, 1.0, false},
      {"Equalize", 0.0, 1.0, false},
      {"Brightness", 0.1, 1.9, false},
      {"Sharpness", 0.1, 1.9, false},
  }};
  return ops;
}

const AugmentOp& find_augment_op(const std::string& name) {
  for (const AugmentOp& op : augment_list())
    if (name == op.name) return op;
  throw std::invalid_argument("unknown RandAugment op '" + name + "'");
}

double augment_value(const AugmentOp& op, int magnitude) {
  return (static_cast<double>(magnitude) / 10) * (op.max - op.min) + op.min;
}

std::uint8_t label_fill(const std::string& expert) {
  if (expert == "depth" || expert == "normal" || expert == "edge") return 0;
  if (expert == "seg_coco" || expert == "seg_ade" || expert == "obj_detection" || expert == "ocr_detection") return 255;
  throw std::invalid_argument("no fill value for expert '" + expert + "'");
}

namespace {

void affine_pair(const std::array<double, 6>& data, Image& image, LabelMaps& labels) {
  image = affine_transform(image, data, AffineResample::bilinear, {0, 0, 0, 0});
  for (auto& [name, map] : labels) {
    const std::uint8_t f = label_fill(name);
    map = affine_transform(map, data, AffineResample::nearest, {f, f, f, f});
  }
}

}  // namespace

void apply_augment(const AugmentOp& op, double v, Image& image, LabelMaps& labels) {
  const std::string name = op.name;
  if (name == "Identity") return;
  if (name == "ShearX") return affine_pair({1, v, 0, 0, 1, 0}, image, labels);
  if (name == "ShearY") return affine_pair({1, 0, 0, v, 1, 0}, image, labels);
  if (name == "TranslateX") return affine_pair({1, 0, v * image.width, 0, 1, 0}, image, labels);
  if (name == "TranslateY") return affine_pair({1, 0, 0, 0, 1, v * image.height}, image, labels);
  if (name == "Rotate") {
    image = rotate(image, v, AffineResample::nearest, {0, 0, 0, 0});
    for (auto& [expert, map] : labels) {
      const std::uint8_t f = label_fill(expert);
      map = rotate(map, v, AffineResample::nearest, {f, f, f, f});
    }
    return;
  }
  if (name == "AutoContrast") return void(image = autocontrast(image));
  if (name == "Equalize") return void(image = equalize(image));
  if (name == "Brightness") return void(image = brightness(image, v));
  if (name == "Sharpness") return void(image = sharpness(image, v));
  throw std::invalid_argument("unknown RandAugment op '" + name + "'");
}

}  // namespace prismer::data
