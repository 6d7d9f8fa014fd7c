// UniDet `Unified_learned_OCIM_RS200_6x+2x` (detectron2 UnifiedRCNN) at inference, one image at a time:
// ResNeSt-200 + FPN (p3-p7), RPN, three-stage cascade ROI heads on p3-p5 (ROIAlignV2 7x7), scores = mean over the
// stages of sigmoid(logits) without the background column, class-agnostic boxes, score > threshold, per-class
// NMS 0.5, top 300, detector_postprocess. Parameter names are those of the official state_dict.
#pragma once

#include "cascade_heads.h"
#include "fpn.h"
#include "rpn.h"

#include <array>
#include <vector>

namespace prismer::experts::obj_detection {

/// Detections of one image: boxes [K, 4] (x1, y1, x2, y2), scores [K], classes [K] (int64, 0..721), by score.
struct Detections {
  torch::Tensor boxes, scores, classes;
};

/// One cascade stage's inputs and raw outputs (rows in proposal order).
struct StageTrace {
  torch::Tensor boxes_in;     ///< [R, 4] the stage's input boxes
  torch::Tensor cls_logits;   ///< [R, 723]
  torch::Tensor bbox_deltas;  ///< [R, 4]
};

/// Every intermediate the reference fixtures name (filled by UniDetImpl::detect when asked for).
struct DetectionTrace {
  FeatureMap features;                    ///< stem, res2..res5, p3..p7
  std::vector<torch::Tensor> objectness;  ///< raw RPN head outputs per level p3..p7, [1, 9, H, W]
  std::vector<torch::Tensor> anchor_deltas;  ///< [1, 36, H, W]
  Proposals proposals;
  std::vector<StageTrace> stages;
  torch::Tensor scores;  ///< [R, 723] mean over stages of the sigmoid scores
  Detections instances;  ///< the ROI heads' result, before detector_postprocess
};

/// Inference settings (setup_cfg of the original: SCORE_THRESH_TEST 0.5; config NMS 0.5, 300 per image).
struct DetectOptions {
  double score_threshold = 0.5;
  double nms_threshold = 0.5;
  std::int64_t max_detections = 300;
};

class UniDetImpl : public torch::nn::Module {
 public:
  explicit UniDetImpl(std::int64_t classes = 722);

  /// The model on one image `bgr` [3, H, W] float32 0..255 in **BGR** order (the original's quirk: its pixel
  /// mean/std are RGB-ordered but applied to BGR), H and W the resized size. Normalises, pads to a multiple of 32,
  /// runs everything and returns the detections after detector_postprocess (scale 1, clip, drop empty boxes).
  /// `trace`, when given, receives every intermediate.
  Detections detect(const torch::Tensor& bgr, DetectionTrace* trace = nullptr, const DetectOptions& options = {});

  /// The cascade ROI heads on given proposals (the fixtures' stage outputs depend on the proposal order).
  Detections roi_heads(const std::vector<torch::Tensor>& pyramid, const torch::Tensor& proposals,
                       std::int64_t height, std::int64_t width, DetectionTrace* trace, const DetectOptions& options);

 private:
  FpnBackbone backbone_{nullptr};
  RpnHead rpn_head_{nullptr};
  std::vector<BoxHead> box_heads_;
  std::vector<BoxPredictor> box_predictors_;
};
TORCH_MODULE(UniDet);

/// The cascade's box regression weights per stage: (10,10,5,5), (20,20,10,10), (30,30,15,15).
extern const std::array<std::array<double, 4>, 3> kCascadeWeights;

}  // namespace prismer::experts::obj_detection
