#include "box_ops.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace prismer::experts::obj_detection {

torch::Tensor apply_deltas(const torch::Tensor& deltas_in, const torch::Tensor& boxes_in,
                           const std::array<double, 4>& w) {
  const torch::Tensor deltas = deltas_in.to(torch::kFloat32);
  const torch::Tensor boxes = boxes_in.to(torch::kFloat32);
  const double clamp = std::log(1000.0 / 16);
  const torch::Tensor widths = boxes.select(1, 2) - boxes.select(1, 0);
  const torch::Tensor heights = boxes.select(1, 3) - boxes.select(1, 1);
  const torch::Tensor ctr_x = boxes.select(1, 0) + 0.5 * widths;
  const torch::Tensor ctr_y = boxes.select(1, 1) + 0.5 * heights;
  const torch::Tensor dx = deltas.select(1, 0) / w[0];
  const torch::Tensor dy = deltas.select(1, 1) / w[1];
  const torch::Tensor dw = torch::clamp_max(deltas.select(1, 2) / w[2], clamp);
  const torch::Tensor dh = torch::clamp_max(deltas.select(1, 3) / w[3], clamp);
  const torch::Tensor pred_ctr_x = dx * widths + ctr_x;
  const torch::Tensor pred_ctr_y = dy * heights + ctr_y;
  const torch::Tensor pred_w = torch::exp(dw) * widths;
  const torch::Tensor pred_h = torch::exp(dh) * heights;
  return torch::stack({pred_ctr_x - 0.5 * pred_w, pred_ctr_y - 0.5 * pred_h, pred_ctr_x + 0.5 * pred_w,
                       pred_ctr_y + 0.5 * pred_h},
                      1);
}

torch::Tensor clip_boxes(const torch::Tensor& boxes, std::int64_t height, std::int64_t width) {
  const double h = static_cast<double>(height), w = static_cast<double>(width);
  return torch::stack({boxes.select(1, 0).clamp(0, w), boxes.select(1, 1).clamp(0, h), boxes.select(1, 2).clamp(0, w),
                       boxes.select(1, 3).clamp(0, h)},
                      1);
}

torch::Tensor nonempty(const torch::Tensor& boxes) {
  return (boxes.select(1, 2) - boxes.select(1, 0) > 0) & (boxes.select(1, 3) - boxes.select(1, 1) > 0);
}

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold) {
  const auto n = boxes.size(0);
  if (n == 0) return torch::empty({0}, boxes.options().dtype(torch::kInt64));
  const torch::Tensor order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true));
  const torch::Tensor b = boxes.index_select(0, order).to(torch::kFloat32);
  // The pairwise IoU matrix with torchvision's float32 formula, then the greedy pass on the host.
  const torch::Tensor x1 = b.select(1, 0), y1 = b.select(1, 1), x2 = b.select(1, 2), y2 = b.select(1, 3);
  const torch::Tensor area = (x2 - x1) * (y2 - y1);
  const torch::Tensor w = (torch::min(x2.unsqueeze(1), x2.unsqueeze(0)) - torch::max(x1.unsqueeze(1), x1.unsqueeze(0)))
                              .clamp_min(0);
  const torch::Tensor h = (torch::min(y2.unsqueeze(1), y2.unsqueeze(0)) - torch::max(y1.unsqueeze(1), y1.unsqueeze(0)))
                              .clamp_min(0);
  const torch::Tensor inter = w * h;
  const torch::Tensor over = (inter / (area.unsqueeze(1) + area.unsqueeze(0) - inter) > threshold).to(torch::kCPU);
  const torch::Tensor order_cpu = order.to(torch::kCPU);
  const bool* o = over.data_ptr<bool>();
  const std::int64_t* idx = order_cpu.data_ptr<std::int64_t>();
  std::vector<char> suppressed(static_cast<std::size_t>(n), 0);
  std::vector<std::int64_t> keep;
  for (std::int64_t i = 0; i < n; ++i) {
    if (suppressed[static_cast<std::size_t>(i)]) continue;
    keep.push_back(idx[i]);
    const bool* row = o + i * n;
    for (std::int64_t j = i + 1; j < n; ++j)
      if (row[j]) suppressed[static_cast<std::size_t>(j)] = 1;
  }
  return torch::tensor(keep, torch::kInt64).to(boxes.device());
}

torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& groups,
                          double threshold) {
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kInt64));
  const std::int64_t limit = boxes.device().is_cpu() ? 4000 : 20000;
  if (boxes.numel() <= limit) {
    // _batched_nms_coordinate_trick: shift each group by id * (max coordinate + 1), one NMS.
    const torch::Tensor offsets = groups.to(boxes.scalar_type()) * (boxes.max() + 1);
    return nms(boxes + offsets.unsqueeze(1), scores, threshold);
  }
  // _batched_nms_vanilla: NMS per group, then every kept index by decreasing score.
  torch::Tensor keep_mask = torch::zeros({boxes.size(0)}, boxes.options().dtype(torch::kBool));
  const torch::Tensor ids = std::get<0>(torch::_unique(groups));
  for (std::int64_t k = 0; k < ids.size(0); ++k) {
    const torch::Tensor members = torch::nonzero(groups == ids[k]).select(1, 0);
    const torch::Tensor kept = nms(boxes.index_select(0, members), scores.index_select(0, members), threshold);
    keep_mask.index_fill_(0, members.index_select(0, kept), true);
  }
  const torch::Tensor keep = torch::nonzero(keep_mask).select(1, 0);
  const torch::Tensor order = std::get<1>(scores.index_select(0, keep).sort(/*stable=*/true, 0, /*descending=*/true));
  return keep.index_select(0, order);
}

}  // namespace prismer::experts::obj_detection

