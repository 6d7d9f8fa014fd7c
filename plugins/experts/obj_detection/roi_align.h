// ROIAlign (torchvision semantics, as detectron2's ROIAlignV2 calls it: aligned=True, sampling_ratio 0) and
// detectron2's multi-level ROIPooler, written with ATen operations so that they run on any device.
#pragma once

#include <torch/types.h>

#include <vector>

namespace prismer::experts::obj_detection {

/// torchvision roi_align on one feature map `features` [B, C, H, W] for `rois` [N, 5] (batch index, x1, y1, x2, y2
/// in image coordinates). aligned: the box is shifted by -0.5 px; sampling_ratio <= 0: ceil(roi size / output)
/// samples per bin and axis. Bilinear samples follow torchvision's boundary rules (outside [-1, size] -> 0, clamped
/// at the last row/column). Returns [N, C, output, output].
torch::Tensor roi_align(const torch::Tensor& features, const torch::Tensor& rois, double spatial_scale,
                        std::int64_t output, std::int64_t sampling_ratio, bool aligned);

/// detectron2 ROIPooler (ROIAlignV2, canonical box 224 at level 4): each box of `boxes` (one [Ni, 4] per image)
/// goes to level floor(4 + log2(sqrt(area) / 224 + 1e-8)) clamped to the levels of `features` (first = `min_level`,
/// stride 2^level) and is pooled there. Returns [sum Ni, C, output, output].
torch::Tensor roi_pool_levels(const std::vector<torch::Tensor>& features, int min_level,
                              const std::vector<torch::Tensor>& boxes, std::int64_t output = 7);

}  // namespace prismer::experts::obj_detection
