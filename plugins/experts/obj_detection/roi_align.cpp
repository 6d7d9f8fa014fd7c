#include "roi_align.h"

#include <torch/torch.h>

#include <map>
#include <stdexcept>
#include <utility>

namespace prismer::experts::obj_detection {

namespace {

// Bounds the gathered sample tensor of one chunk (channels x samples values).
constexpr std::int64_t kChunkValues = std::int64_t{1} << 24;

// One axis of torchvision's bilinear pre-calculation for every sample coordinate `v` (float32, any shape) on an
// axis of `size` cells: (low index, high index, low weight, high weight, inside).
struct Axis {
  torch::Tensor low, high, w_low, w_high, inside;
};

Axis axis_samples(const torch::Tensor& v_in, std::int64_t size) {
  Axis a;
  a.inside = (v_in >= -1.0) & (v_in <= static_cast<double>(size));
  torch::Tensor v = v_in.clamp_min(0);  // if (y <= 0) y = 0
  torch::Tensor low = v.to(torch::kInt64);  // (int)y, y >= 0 here
  const torch::Tensor at_end = low >= size - 1;
  low = torch::where(at_end, torch::full_like(low, size - 1), low);
  a.high = torch::where(at_end, low, low + 1);
  v = torch::where(at_end, low.to(v.scalar_type()), v);
  a.low = low;
  const torch::Tensor l = v - low.to(v.scalar_type());
  a.w_high = l;
  a.w_low = 1.0 - l;
  return a;
}

// Pools the rois `rois` (all of image `b`, all with a grid of gh x gw samples per bin) from `fmap` [C, H, W].
torch::Tensor pool_group(const torch::Tensor& fmap, const torch::Tensor& start_x, const torch::Tensor& start_y,
                         const torch::Tensor& bin_w, const torch::Tensor& bin_h, std::int64_t gh, std::int64_t gw,
                         std::int64_t output) {
  const std::int64_t n = start_x.size(0), channels = fmap.size(0), height = fmap.size(1), width = fmap.size(2);
  const auto fopt = start_x.options();
  if (gh == 0 || gw == 0) return torch::zeros({n, channels, output, output}, fmap.options());
  // yy = roi_start_h + ph * bin_size_h + (iy + .5f) * bin_size_h / roi_bin_grid_h, in float32 as torchvision.
  const torch::Tensor p = torch::arange(output, fopt);
  auto coords = [&](const torch::Tensor& start, const torch::Tensor& bin, std::int64_t grid) {
    const torch::Tensor i = torch::arange(grid, fopt).add(0.5);
    const torch::Tensor base = start.view({n, 1, 1}) + p.view({1, output, 1}) * bin.view({n, 1, 1});
    return base + i.view({1, 1, grid}) * bin.view({n, 1, 1}) / static_cast<double>(grid);  // [n, out, grid]
  };
  const Axis ay = axis_samples(coords(start_y, bin_h, gh), height);
  const Axis ax = axis_samples(coords(start_x, bin_w, gw), width);
  // Broadcast to [n, out(ph), gh, out(pw), gw].
  auto Y = [&](const torch::Tensor& t) { return t.view({n, output, gh, 1, 1}); };
  auto X = [&](const torch::Tensor& t) { return t.view({n, 1, 1, output, gw}); };
  const torch::Tensor inside = (Y(ay.inside) & X(ax.inside)).to(fmap.scalar_type());
  const torch::Tensor w1 = Y(ay.w_low) * X(ax.w_low) * inside, w2 = Y(ay.w_low) * X(ax.w_high) * inside;
  const torch::Tensor w3 = Y(ay.w_high) * X(ax.w_low) * inside, w4 = Y(ay.w_high) * X(ax.w_high) * inside;
  const torch::Tensor flat = fmap.reshape({channels, height * width});
  auto gather = [&](const torch::Tensor& yi, const torch::Tensor& xi) {
    const torch::Tensor pos = (Y(yi) * width + X(xi)).reshape({-1});
    return flat.index_select(1, pos).view({channels, n, output, gh, output, gw});
  };
  // output_val += w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4 over the samples, then / count.
  const torch::Tensor v = w1 * gather(ay.low, ax.low) + w2 * gather(ay.low, ax.high) + w3 * gather(ay.high, ax.low) +
                          w4 * gather(ay.high, ax.high);
  return v.sum({3, 5}).div(static_cast<double>(gh * gw)).permute({1, 0, 2, 3}).contiguous();
}

}  // namespace

torch::Tensor roi_align(const torch::Tensor& features, const torch::Tensor& rois, double spatial_scale,
                        std::int64_t output, std::int64_t sampling_ratio, bool aligned) {
  if (features.dim() != 4 || rois.dim() != 2 || rois.size(1) != 5)
    throw std::invalid_argument("roi_align: expected features [B, C, H, W] and rois [N, 5]");
  const std::int64_t n = rois.size(0), channels = features.size(1);
  torch::Tensor out = torch::zeros({n, channels, output, output}, features.options());
  if (n == 0) return out;
  const torch::Tensor r = rois.to(features.scalar_type());
  const double offset = aligned ? 0.5 : 0.0;
  const torch::Tensor start_x = r.select(1, 1) * spatial_scale - offset;
  const torch::Tensor start_y = r.select(1, 2) * spatial_scale - offset;
  torch::Tensor roi_w = r.select(1, 3) * spatial_scale - offset - start_x;
  torch::Tensor roi_h = r.select(1, 4) * spatial_scale - offset - start_y;
  if (!aligned) {
    roi_w = roi_w.clamp_min(1.0);
    roi_h = roi_h.clamp_min(1.0);
  }
  const torch::Tensor bin_w = roi_w / static_cast<double>(output);
  const torch::Tensor bin_h = roi_h / static_cast<double>(output);
  torch::Tensor grid_w, grid_h;
  if (sampling_ratio > 0) {
    grid_w = torch::full({n}, sampling_ratio, torch::kInt64);
    grid_h = grid_w;
  } else {
    grid_w = torch::ceil(roi_w / static_cast<double>(output)).to(torch::kInt64).clamp_min(0).cpu();
    grid_h = torch::ceil(roi_h / static_cast<double>(output)).to(torch::kInt64).clamp_min(0).cpu();
  }
  // Group rois by (image, grid): each group is one dense gather.
  const torch::Tensor batch = r.select(1, 0).to(torch::kInt64).cpu();
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::vector<std::int64_t>> groups;
  const auto* bi = batch.data_ptr<std::int64_t>();
  const auto* gy = grid_h.data_ptr<std::int64_t>();
  const auto* gx = grid_w.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) groups[{bi[i], gy[i], gx[i]}].push_back(i);
  for (const auto& [key, members] : groups) {
    const auto [b, gh, gw] = key;
    if (b < 0 || b >= features.size(0)) throw std::invalid_argument("roi_align: roi batch index out of range");
    const std::int64_t per_roi = std::max<std::int64_t>(channels * output * output * gh * gw, 1);
    const std::int64_t chunk = std::max<std::int64_t>(1, kChunkValues / per_roi);
    for (std::size_t s = 0; s < members.size(); s += static_cast<std::size_t>(chunk)) {
      const std::size_t e = std::min(members.size(), s + static_cast<std::size_t>(chunk));
      const torch::Tensor idx =
          torch::tensor(std::vector<std::int64_t>(members.begin() + static_cast<std::ptrdiff_t>(s),
                                                  members.begin() + static_cast<std::ptrdiff_t>(e)),
                        torch::kInt64)
              .to(features.device());
      out.index_copy_(0, idx,
                      pool_group(features[b], start_x.index_select(0, idx), start_y.index_select(0, idx),
                                 bin_w.index_select(0, idx), bin_h.index_select(0, idx), gh, gw, output));
    }
  }
  return out;
}

torch::Tensor roi_pool_levels(const std::vector<torch::Tensor>& features, int min_level,
                              const std::vector<torch::Tensor>& boxes, std::int64_t output) {
  std::vector<torch::Tensor> rois;
  for (std::size_t i = 0; i < boxes.size(); ++i)
    rois.push_back(torch::cat({torch::full({boxes[i].size(0), 1}, static_cast<double>(i), boxes[i].options()), boxes[i]},
                              1));
  const torch::Tensor all = torch::cat(rois, 0);
  const std::int64_t n = all.size(0), channels = features.at(0).size(1);
  torch::Tensor out = torch::zeros({n, channels, output, output}, features[0].options());
  if (n == 0) return out;
  // assign_boxes_to_levels: floor(canonical_level + log2(sqrt(area) / canonical_box_size + 1e-8)), clamped.
  const torch::Tensor b = all.slice(1, 1, 5);
  const torch::Tensor area = (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
  const torch::Tensor level = torch::floor(4 + torch::log2(torch::sqrt(area) / 224 + 1e-8));
  const int max_level = min_level + static_cast<int>(features.size()) - 1;
  const torch::Tensor assigned = level.clamp(min_level, max_level).to(torch::kInt64) - min_level;
  for (std::size_t l = 0; l < features.size(); ++l) {
    const torch::Tensor idx = torch::nonzero(assigned == static_cast<std::int64_t>(l)).select(1, 0);
    if (idx.size(0) == 0) continue;
    const double scale = 1.0 / static_cast<double>(std::int64_t{1} << (min_level + static_cast<int>(l)));
    out.index_copy_(0, idx, roi_align(features[l], all.index_select(0, idx), scale, output, 0, true));
  }
  return out;
}

}  // namespace prismer::experts::obj_detection
