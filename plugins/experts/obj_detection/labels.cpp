#include "labels.h"

#include <prismer/data/resize.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace prismer::experts::obj_detection {

std::pair<int, int> resized_size(int width, int height, int size, int max_size) {
  const bool portrait = width <= height;
  const int shorter = portrait ? width : height, longer = portrait ? height : width;
  int new_short = size;
  int new_long = static_cast<int>(static_cast<double>(size) * longer / shorter);
  if (new_long > max_size) {
    new_short = static_cast<int>(static_cast<double>(max_size) * new_short / new_long);
    new_long = max_size;
  }
  return portrait ? std::make_pair(new_short, new_long) : std::make_pair(new_long, new_short);
}

torch::Tensor preprocess(const Image& rgb) {
  if (rgb.empty() || rgb.channels != 3)
    throw std::invalid_argument("obj_detection: expected a non-empty RGB image, got " + std::to_string(rgb.width) + "x" +
                                std::to_string(rgb.height) + " with " + std::to_string(rgb.channels) + " channels");
  const auto [w, h] = resized_size(rgb.width, rgb.height);
  const Image resized = data::resize(rgb, w, h, data::Resample::bilinear);
  const torch::Tensor hwc =
      torch::from_blob(const_cast<std::uint8_t*>(resized.pixels.data()), {h, w, 3}, torch::kUInt8);
  return hwc.flip({2}).permute({2, 0, 1}).to(torch::kFloat32).contiguous();
}

torch::Tensor depth_input(const Image& depth) {
  if (depth.empty() || depth.channels != 1)
    throw std::invalid_argument("obj_detection: the depth label must be a non-empty 1-channel image, got " +
                                std::to_string(depth.width) + "x" + std::to_string(depth.height) + " with " +
                                std::to_string(depth.channels) + " channels");
  const auto [w, h] = resized_size(depth.width, depth.height);
  const Image resized = data::resize(depth, w, h, data::Resample::bilinear);
  return torch::from_blob(const_cast<std::uint8_t*>(resized.pixels.data()), {h, w}, torch::kUInt8)
      .to(torch::kFloat32)
      .div(255.0);
}

namespace {

struct Rect {
  std::int64_t x0, y0, x1, y1;  // [y0:y1, x0:x1] with Python slice clamping
  std::int64_t area() const { return std::max<std::int64_t>(0, x1 - x0) * std::max<std::int64_t>(0, y1 - y0); }
};

Rect intersect(const Rect& a, const Rect& b) {
  return {std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

torch::Tensor fill(const Rect& r, std::int64_t h, std::int64_t w) {
  torch::Tensor m = torch::zeros({h, w}, torch::kFloat32);
  const Rect c{std::clamp<std::int64_t>(r.x0, 0, w), std::clamp<std::int64_t>(r.y0, 0, h),
               std::clamp<std::int64_t>(r.x1, 0, w), std::clamp<std::int64_t>(r.y1, 0, h)};
  if (c.x1 > c.x0 && c.y1 > c.y0) m.slice(0, c.y0, c.y1).slice(1, c.x0, c.x1).fill_(1.0);
  return m;
}

}  // namespace

std::pair<torch::Tensor, std::vector<std::int64_t>> mask_labels(const torch::Tensor& depth_in, const torch::Tensor& boxes_in,
                                                                const torch::Tensor& classes_in) {
  const torch::Tensor depth = depth_in.to(torch::kCPU, torch::kFloat32).contiguous();
  const std::int64_t h = depth.size(0), w = depth.size(1);
  const torch::Tensor boxes = boxes_in.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor classes = classes_in.to(torch::kCPU, torch::kInt64).contiguous();
  // Boxes are clipped to the image, so int() truncation is floor and the slices stay inside.
  std::vector<Rect> kept;
  std::vector<std::int64_t> ids;
  const float limit = 0.95f;  // a float32 tensor compared with the Python float 0.95
  for (std::int64_t i = 0; i < boxes.size(0); ++i) {
    const float* b = boxes.data_ptr<float>() + 4 * i;
    const Rect r{static_cast<std::int64_t>(b[0]), static_cast<std::int64_t>(b[1]), static_cast<std::int64_t>(b[2]),
                 static_cast<std::int64_t>(b[3])};
    bool duplicate = false;
    for (const Rect& k : kept) {
      const std::int64_t inter = intersect(r, k).area(), uni = r.area() + k.area() - inter;
      // inter.sum() / union.sum(): int64 true division in float32; 0 / 0 is NaN, never > 0.95.
      if (uni > 0 && static_cast<float>(inter) / static_cast<float>(uni) > limit) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) {
      kept.push_back(r);
      ids.push_back(classes[i].item<std::int64_t>());
    }
  }
  std::vector<torch::Tensor> masks, modified;
  std::vector<float> mean_depth(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    masks.push_back(fill(kept[i], h, w));
    modified.push_back(masks.back().clone());
    // (depth * mask).sum() / mask.sum() in float32 tensors (0 / 0 -> NaN, which compares false both ways).
    mean_depth[i] = ((depth * masks[i]).sum() / masks[i].sum()).item<float>();
  }
  for (std::size_t i = 0; i + 1 < kept.size(); ++i) {
    for (std::size_t j = i + 1; j < kept.size(); ++j) {
      const Rect in = intersect(kept[i], kept[j]);
      const std::int64_t inter = in.area();
      if (inter == 0) continue;  // case 1: disjoint
      if (inter == kept[i].area()) {
        modified[j] -= modified[i];  // case 2: object i inside object j, i in front
      } else if (inter == kept[j].area()) {
        modified[i] -= modified[j];  // case 3: object j inside object i
      } else {
        // case 4: the nearer (brighter inverse depth) object keeps the intersection.
        if (mean_depth[i] > mean_depth[j]) modified[j] -= fill(in, h, w);
        if (mean_depth[i] < mean_depth[j]) modified[i] -= fill(in, h, w);
      }
    }
  }
  torch::Tensor final_mask = torch::full({h, w}, 255.0f, torch::kFloat32);
  for (std::size_t i = 0; i < modified.size(); ++i)
    final_mask.masked_fill_(modified[i] > 0, static_cast<double>(i));
  return {final_mask, ids};
}

std::string instance_json(const std::vector<std::int64_t>& classes) {
  std::string out = "{";
  for (std::size_t i = 0; i < classes.size(); ++i)
    out += (i ? ", \"" : "\"") + std::to_string(i) + "\": " + std::to_string(classes[i]);
  return out + "}";
}

Label make_label(const torch::Tensor& mask, const std::vector<std::int64_t>& classes, int width, int height) {
  const torch::Tensor m = mask.to(torch::kCPU, torch::kFloat32).contiguous();
  Image small(static_cast<int>(m.size(1)), static_cast<int>(m.size(0)), 1);
  const float* src = m.data_ptr<float>();
  for (std::size_t i = 0; i < small.pixels.size(); ++i) {
    const float v = src[i];  // Pillow's F -> L: clip, truncate
    small.pixels[i] = std::isnan(v) || v <= 0.0f ? 0 : v >= 255.0f ? 255 : static_cast<std::uint8_t>(v);
  }
  Label label;
  label.map = data::resize(small, width, height, data::Resample::nearest);
  label.sidecars[".json"] = instance_json(classes);
  return label;
}

}  // namespace prismer::experts::obj_detection
