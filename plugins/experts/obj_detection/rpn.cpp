#include "rpn.h"

#include "box_ops.h"

#include <cmath>

namespace prismer::experts::obj_detection {

RpnHeadImpl::RpnHeadImpl(std::int64_t channels, std::int64_t anchors) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)));
  objectness_ = register_module("objectness_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, anchors, 1)));
  deltas_ = register_module("anchor_deltas", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, anchors * 4, 1)));
}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> RpnHeadImpl::forward(
    const std::vector<torch::Tensor>& features) {
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> out;
  for (const torch::Tensor& f : features) {
    const torch::Tensor t = torch::relu(conv_->forward(f));
    out.first.push_back(objectness_->forward(t));
    out.second.push_back(deltas_->forward(t));
  }
  return out;
}

torch::Tensor level_anchors(int level, std::int64_t height, std::int64_t width, const torch::Device& device) {
  // generate_cell_anchors in Python doubles, then torch.tensor(...) -> float32.
  const double base = 32.0 * std::pow(2.0, level - 3);
  const double sizes[3] = {base, base * std::pow(2.0, 1.0 / 3), base * std::pow(2.0, 2.0 / 3)};
  const double ratios[3] = {0.5, 1.0, 2.0};
  std::vector<float> cell;
  for (double s : sizes)
    for (double r : ratios) {
      const double w = std::sqrt(std::pow(s, 2.0) / r), h = r * w;
      for (double v : {-w / 2.0, -h / 2.0, w / 2.0, h / 2.0}) cell.push_back(static_cast<float>(v));
    }
  const torch::Tensor cells = torch::tensor(cell).view({1, 9, 4}).to(device);
  const double stride = std::pow(2.0, level);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const torch::Tensor sx = torch::arange(0.0, static_cast<double>(width) * stride, stride, f32);
  const torch::Tensor sy = torch::arange(0.0, static_cast<double>(height) * stride, stride, f32);
  const auto grid = torch::meshgrid({sy, sx}, "ij");
  const torch::Tensor x = grid[1].reshape({-1}), y = grid[0].reshape({-1});
  const torch::Tensor shifts = torch::stack({x, y, x, y}, 1);
  return (shifts.view({-1, 1, 4}) + cells).reshape({-1, 4});
}

std::vector<Proposals> find_proposals(const std::vector<torch::Tensor>& objectness,
                                      const std::vector<torch::Tensor>& deltas,
                                      const std::vector<std::pair<std::int64_t, std::int64_t>>& image_sizes,
                                      int first_level, const RpnOptions& options) {
  const std::int64_t batch = static_cast<std::int64_t>(image_sizes.size());
  std::vector<torch::Tensor> scores, boxes, levels;
  for (std::size_t l = 0; l < objectness.size(); ++l) {
    const torch::Tensor& o = objectness[l];
    const std::int64_t h = o.size(2), w = o.size(3), a = o.size(1);
    const torch::Tensor logits = o.permute({0, 2, 3, 1}).flatten(1);  // [B, H*W*A]
    const torch::Tensor d = deltas[l].view({batch, a, 4, h, w}).permute({0, 3, 4, 1, 2}).flatten(1, -2);
    const torch::Tensor anchors = level_anchors(first_level + static_cast<int>(l), h, w, o.device());
    const torch::Tensor decoded =
        apply_deltas(d.reshape({-1, 4}), anchors.unsqueeze(0).expand({batch, -1, -1}).reshape({-1, 4}), {1, 1, 1, 1})
            .view({batch, -1, 4});
    const std::int64_t k = std::min(logits.size(1), options.pre_nms_topk);
    const auto [top, idx] = logits.topk(k, 1);
    scores.push_back(top);
    boxes.push_back(torch::stack(
        [&] {
          std::vector<torch::Tensor> per;
          for (std::int64_t b = 0; b < batch; ++b) per.push_back(decoded[b].index_select(0, idx[b]));
          return per;
        }(),
        0));
    levels.push_back(torch::full({k}, static_cast<std::int64_t>(l), torch::TensorOptions().dtype(torch::kInt64).device(o.device())));
  }
  const torch::Tensor all_scores = torch::cat(scores, 1), all_boxes = torch::cat(boxes, 1), lvl = torch::cat(levels);
  std::vector<Proposals> out;
  for (std::int64_t b = 0; b < batch; ++b) {
    torch::Tensor bx = all_boxes[b], sc = all_scores[b], lv = lvl;
    const torch::Tensor valid = torch::isfinite(bx).all(1) & torch::isfinite(sc);
    if (!valid.all().item<bool>()) {
      bx = bx.index({valid});
      sc = sc.index({valid});
      lv = lv.index({valid});
    }
    bx = clip_boxes(bx, image_sizes[static_cast<std::size_t>(b)].first, image_sizes[static_cast<std::size_t>(b)].second);
    const torch::Tensor keep_nonempty = nonempty(bx);
    if (!keep_nonempty.all().item<bool>()) {
      bx = bx.index({keep_nonempty});
      sc = sc.index({keep_nonempty});
      lv = lv.index({keep_nonempty});
    }
    torch::Tensor keep = batched_nms(bx, sc, lv, options.nms_threshold);
    keep = keep.slice(0, 0, std::min<std::int64_t>(keep.size(0), options.post_nms_topk));
    out.push_back({bx.index_select(0, keep), sc.index_select(0, keep)});
  }
  return out;
}

}  // namespace prismer::experts::obj_detection
