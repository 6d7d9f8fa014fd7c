// detectron2's RPN as UniDet configures it: a shared 3x3 conv head on p3-p7, 9 anchors per cell (sizes
// {s, s*2^(1/3), s*2^(2/3)} for s = 32..512, ratios {0.5, 1, 2}, offset 0), top 1000 per level by objectness,
// clip, drop empty boxes, NMS 0.7 per level, top 1000 overall (test settings).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace prismer::experts::obj_detection {

/// StandardRPNHead: `conv` (3x3 + ReLU), `objectness_logits` (1x1 -> A), `anchor_deltas` (1x1 -> 4A).
class RpnHeadImpl : public torch::nn::Module {
 public:
  explicit RpnHeadImpl(std::int64_t channels = 256, std::int64_t anchors = 9);
  /// Per level: (objectness [B, A, H, W], deltas [B, 4A, H, W]).
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& features);

 private:
  torch::nn::Conv2d conv_{nullptr}, objectness_{nullptr}, deltas_{nullptr};
};
TORCH_MODULE(RpnHead);

/// DefaultAnchorGenerator's anchors of one level ([H * W * A, 4], (y, x, anchor) row-major, float32).
torch::Tensor level_anchors(int level, std::int64_t height, std::int64_t width, const torch::Device& device);

/// One image's proposals: boxes [N, 4] and their objectness logits [N], by decreasing logit.
struct Proposals {
  torch::Tensor boxes;
  torch::Tensor logits;
};

/// RPN settings (detectron2 test defaults of the UniDet config).
struct RpnOptions {
  std::int64_t pre_nms_topk = 1000;
  std::int64_t post_nms_topk = 1000;
  double nms_threshold = 0.7;
};

/// find_top_rpn_proposals on the decoded head outputs. `image_sizes` are the (height, width) of the images
/// before padding; `first_level` is the level of objectness[0] (3 for p3).
std::vector<Proposals> find_proposals(const std::vector<torch::Tensor>& objectness,
                                      const std::vector<torch::Tensor>& deltas,
                                      const std::vector<std::pair<std::int64_t, std::int64_t>>& image_sizes,
                                      int first_level = 3, const RpnOptions& options = {});

}  // namespace prismer::experts::obj_detection
