// The original RandAugment(2, 5) (dataset/randaugment.py) applied to an image and its labels together.
#pragma once

#include <prismer/image.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace prismer::data {

/// Side length every label is resized to (NEAREST) by the Transform, whatever the image resolution.
inline constexpr int kLabelSize = 224;

/// Labels in expert order, as the Transform carries them.
using LabelMaps = std::vector<std::pair<std::string, Image>>;

/// The 10 ops of the original `augment_list()`, in its order, with their (min, max) ranges.
struct AugmentOp {
  const char* name;
  double min;
  double max;
  bool geometric;  ///< draws a sign (random.random() > 0.5 -> negated) and moves the labels too
};
/// Identity, ShearX, ShearY, TranslateX, TranslateY, Rotate, AutoContrast, Equalize, Brightness, Sharpness.
const std::array<AugmentOp, 10>& augment_list();
/// The op named `name`; throws std::invalid_argument for another name.
const AugmentOp& find_augment_op(const std::string& name);
/// `(m / 10) * (max - min) + min` in double, as the original computes an op's value.
double augment_value(const AugmentOp& op, int magnitude);
/// `fillmask` of the original: 0 for depth/normal/edge, 255 for seg_coco/seg_ade/obj_detection/ocr_detection.
std::uint8_t label_fill(const std::string& expert);

/// Applies one op with its final value `v` (sign already applied for geometric ops): image with BILINEAR (Rotate:
/// NEAREST) and fill 0, labels with NEAREST and `label_fill`. Translate moves the labels by the same number of
/// pixels as the image (`v * image width/height`), as the original does. Photometric ops leave labels unchanged.
void apply_augment(const AugmentOp& op, double v, Image& image, LabelMaps& labels);

}  // namespace prismer::data
