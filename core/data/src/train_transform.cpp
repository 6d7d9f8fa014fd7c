// Train-time Transform of the original dataset/utils.py: draws, then the deterministic Pillow restatements.
#include "prismer/data/train_transform.h"

#include "prismer/data/pil_ops.h"
#include "prismer/data/resize.h"

namespace prismer::data {

std::pair<Image, LabelMaps> apply_train_draws(const Image& image, const LabelMaps& labels, int resolution,
                                              const TrainDraws& d) {
  std::pair<Image, LabelMaps> out;
  const CropBox& b = d.crop;
  out.first = resize(crop(image, b.i, b.j, b.h, b.w), resolution, resolution, Resample::bicubic);
  for (const auto& [name, map] : labels)
    out.second.emplace_back(name, resize(crop(map, b.i, b.j, b.h, b.w), kLabelSize, kLabelSize, Resample::nearest));
  if (d.hflip) {
    out.first = hflip(out.first);
    for (auto& l : out.second) l.second = hflip(l.second);
  }
  for (const auto& [op, v] : d.ops) apply_augment(*op, v, out.first, out.second);
  return out;
}

TrainDraws draw_train_params(int width, int height, const TrainTransformOptions& o, std::mt19937_64& rng) {
  TrainDraws d;
  d.crop = random_resized_crop_params(height, width, o.scale, {3.0 / 4.0, 4.0 / 3.0}, rng);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  d.hflip = u(rng) > 0.5;
  std::uniform_int_distribution<std::size_t> pick(0, augment_list().size() - 1);
  for (int k = 0; k < o.augment_n; ++k) {
    const AugmentOp& op = augment_list()[pick(rng)];
    double v = augment_value(op, o.augment_m);
    if (op.geometric && u(rng) > 0.5) v = -v;
    d.ops.emplace_back(&op, v);
  }
  return d;
}

}  // namespace prismer::data
