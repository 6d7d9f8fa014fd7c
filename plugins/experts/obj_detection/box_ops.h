// Box arithmetic of detectron2 / torchvision as UniDet's inference uses it: delta decoding, clipping, NMS.
// Boxes are float32 [N, 4] (x1, y1, x2, y2) on any device.
#pragma once

#include <torch/types.h>

#include <array>

namespace prismer::experts::obj_detection {

/// Box2BoxTransform.apply_deltas: `deltas` [N, 4] on `boxes` [N, 4] with weights (wx, wy, ww, wh); dw, dh are
/// clamped to log(1000 / 16) before exp.
torch::Tensor apply_deltas(const torch::Tensor& deltas, const torch::Tensor& boxes, const std::array<double, 4>& weights);

/// Boxes.clip((height, width)): x to [0, width], y to [0, height].
torch::Tensor clip_boxes(const torch::Tensor& boxes, std::int64_t height, std::int64_t width);

/// Boxes.nonempty(0): width > 0 and height > 0 ([N] bool).
torch::Tensor nonempty(const torch::Tensor& boxes);

/// torchvision.ops.nms: indices of the kept boxes, by decreasing score (stable sort); a box is suppressed when its
/// IoU with a kept higher-scoring box exceeds `threshold` (IoU = inter / (area_i + area_j - inter), float32).
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold);

/// torchvision.ops.batched_nms (as detectron2 calls it): NMS within each group id, kept indices by decreasing
/// score. Follows torchvision 0.14's choice: the coordinate-offset trick up to 4000 box values on the CPU (20000
/// elsewhere), a per-group loop above; the two differ only in float rounding of the offset boxes.
torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& groups,
                          double threshold);

}  // namespace prismer::experts::obj_detection
