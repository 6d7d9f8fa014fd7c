#include "unidet.h"

#include "box_ops.h"
#include "roi_align.h"

namespace prismer::experts::obj_detection {

const std::array<std::array<double, 4>, 3> kCascadeWeights = {
    {{10.0, 10.0, 5.0, 5.0}, {20.0, 20.0, 10.0, 10.0}, {30.0, 30.0, 15.0, 15.0}}};

namespace {

// cfg.MODEL.PIXEL_MEAN / PIXEL_STD (RGB values, applied to the BGR channels as the original does).
constexpr float kPixelMean[3] = {123.68f, 116.779f, 103.939f};
constexpr float kPixelStd[3] = {58.393f, 57.12f, 57.375f};

}  // namespace

UniDetImpl::UniDetImpl(std::int64_t classes) {
  backbone_ = register_module("backbone", FpnBackbone());
  auto proposal_generator = register_module("proposal_generator", std::make_shared<torch::nn::Module>());
  rpn_head_ = proposal_generator->register_module("rpn_head", RpnHead());
  auto heads = register_module("roi_heads", std::make_shared<torch::nn::Module>());
  auto box_head = heads->register_module("box_head", std::make_shared<torch::nn::Module>());
  auto box_predictor = heads->register_module("box_predictor", std::make_shared<torch::nn::Module>());
  for (int k = 0; k < 3; ++k) {
    box_heads_.push_back(box_head->register_module(std::to_string(k), BoxHead()));
    box_predictors_.push_back(box_predictor->register_module(std::to_string(k), BoxPredictor(classes)));
  }
}

Detections UniDetImpl::detect(const torch::Tensor& bgr, DetectionTrace* trace, const DetectOptions& options) {
  if (bgr.dim() != 3 || bgr.size(0) != 3)
    throw std::invalid_argument("obj_detection: expected a BGR image tensor [3, H, W]");
  const auto opt = bgr.options().dtype(torch::kFloat32);
  const std::int64_t height = bgr.size(1), width = bgr.size(2);
  const torch::Tensor mean = torch::tensor(std::vector<float>(kPixelMean, kPixelMean + 3)).to(opt).view({3, 1, 1});
  const torch::Tensor std = torch::tensor(std::vector<float>(kPixelStd, kPixelStd + 3)).to(opt).view({3, 1, 1});
  // preprocess_image + ImageList.from_tensors(size_divisibility 32): zero padding after normalisation.
  const torch::Tensor normalised = (bgr.to(opt) - mean) / std;
  const std::int64_t ph = (height + 31) / 32 * 32, pw = (width + 31) / 32 * 32;
  const torch::Tensor input =
      torch::constant_pad_nd(normalised, {0, pw - width, 0, ph - height}, 0).unsqueeze(0).contiguous();

  FeatureMap features = backbone_->forward(input);
  std::vector<torch::Tensor> levels;
  for (int l = 3; l <= 7; ++l) levels.push_back(features.at("p" + std::to_string(l)));
  auto [objectness, deltas] = rpn_head_->forward(levels);
  const std::vector<Proposals> proposals = find_proposals(objectness, deltas, {{height, width}}, 3);
  if (trace) {
    trace->features = features;
    trace->objectness = objectness;
    trace->anchor_deltas = deltas;
    trace->proposals = proposals[0];
  }
  const Detections raw = roi_heads({levels[0], levels[1], levels[2]}, proposals[0].boxes, height, width, trace, options);
  // detector_postprocess with the resized size as output size: scale 1, clip, drop empty boxes.
  const torch::Tensor boxes = clip_boxes(raw.boxes, height, width);
  const torch::Tensor keep = nonempty(boxes);
  return {boxes.index({keep}), raw.scores.index({keep}), raw.classes.index({keep})};
}

Detections UniDetImpl::roi_heads(const std::vector<torch::Tensor>& pyramid, const torch::Tensor& proposals,
                                 std::int64_t height, std::int64_t width, DetectionTrace* trace,
                                 const DetectOptions& options) {
  torch::Tensor boxes = proposals;
  torch::Tensor score_sum, predicted;
  for (std::size_t k = 0; k < box_heads_.size(); ++k) {
    // The previous stage's predicted boxes, clipped, are this stage's proposals.
    if (k > 0) boxes = clip_boxes(predicted, height, width);
    const torch::Tensor pooled = roi_pool_levels(pyramid, 3, {boxes});
    auto [logits, deltas] = box_predictors_[k]->forward(box_heads_[k]->forward(pooled));
    predicted = apply_deltas(deltas, boxes, kCascadeWeights[k]);
    const torch::Tensor probs = logits.sigmoid();
    score_sum = k == 0 ? probs : score_sum + probs;
    if (trace) trace->stages.push_back({boxes, logits, deltas});
  }
  // sum(scores_per_stage) * (1.0 / num_stages), then fast_rcnn_inference_single_image.
  const torch::Tensor mean_scores = score_sum.mul(1.0 / static_cast<double>(box_heads_.size()));
  if (trace) trace->scores = mean_scores;
  torch::Tensor scores = mean_scores.slice(1, 0, mean_scores.size(1) - 1);
  torch::Tensor final_boxes = predicted;
  const torch::Tensor valid = torch::isfinite(final_boxes).all(1) & torch::isfinite(scores).all(1);
  if (!valid.all().item<bool>()) {
    final_boxes = final_boxes.index({valid});
    scores = scores.index({valid});
  }
  final_boxes = clip_boxes(final_boxes, height, width);
  const torch::Tensor candidates = torch::nonzero(scores > options.score_threshold);  // [M, 2] (row, class)
  const torch::Tensor rows = candidates.select(1, 0), classes = candidates.select(1, 1);
  const torch::Tensor cand_boxes = final_boxes.index_select(0, rows);
  const torch::Tensor cand_scores = scores.index({rows, classes});
  torch::Tensor keep = batched_nms(cand_boxes, cand_scores, classes, options.nms_threshold);
  keep = keep.slice(0, 0, std::min<std::int64_t>(keep.size(0), options.max_detections));
  Detections out{cand_boxes.index_select(0, keep), cand_scores.index_select(0, keep), classes.index_select(0, keep)};
  if (trace) trace->instances = out;
  return out;
}

}  // namespace prismer::experts::obj_detection
