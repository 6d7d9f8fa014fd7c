#include "mask2former.h"

namespace F = torch::nn::functional;
using torch::indexing::Slice;

namespace prismer::experts::seg {

Mask2FormerImpl::Mask2FormerImpl(const Mask2FormerConfig& cfg) : cfg_(cfg) {
  backbone = register_module("backbone", SwinTransformer(cfg.swin));
  sem_seg_head = register_module("sem_seg_head", std::make_shared<torch::nn::Module>());
  const std::int64_t c = cfg.swin.embed_dim;
  pixel_decoder = sem_seg_head->register_module("pixel_decoder", PixelDecoder(cfg, std::array<std::int64_t, 4>{c, 2 * c, 4 * c, 8 * c}));
  predictor = sem_seg_head->register_module("predictor", TransformerDecoder(cfg));
}

Mask2FormerOutputs Mask2FormerImpl::forward_all(const torch::Tensor& images, bool keep_aux) {
  Mask2FormerOutputs out;
  out.backbone = backbone(images);
  out.pixel_decoder = pixel_decoder(out.backbone);
  out.predictor = predictor(out.pixel_decoder.multi_scale_features, out.pixel_decoder.mask_features, keep_aux);
  return out;
}

torch::Tensor semantic_inference(const torch::Tensor& logits, const torch::Tensor& masks) {
  const torch::Tensor cls = torch::softmax(logits, -1).narrow(-1, 0, logits.size(-1) - 1);
  return torch::einsum("qc,qhw->chw", {cls, masks.sigmoid()});
}

torch::Tensor normalize_and_pad(const torch::Tensor& image, std::int64_t size_divisibility) {
  // PIXEL_MEAN / PIXEL_STD of the configs (RGB order; applied to whatever order `image` has, as the original).
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(image.device());
  const torch::Tensor mean = torch::tensor({123.675, 116.280, 103.530}, opts).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({58.395, 57.120, 57.375}, opts).view({3, 1, 1});
  const torch::Tensor x = (image.to(torch::kFloat32) - mean) / std;
  const auto h = x.size(1), w = x.size(2);
  const auto hp = (h + size_divisibility - 1) / size_divisibility * size_divisibility;
  const auto wp = (w + size_divisibility - 1) / size_divisibility * size_divisibility;
  return F::pad(x, F::PadFuncOptions({0, wp - w, 0, hp - h})).unsqueeze(0);
}

torch::Tensor semantic_segmentation(Mask2FormerImpl& model, const torch::Tensor& image, std::int64_t height,
                                    std::int64_t width, Mask2FormerOutputs* outputs) {
  const auto h = image.size(1), w = image.size(2);
  const torch::Tensor batch = normalize_and_pad(image, model.config().size_divisibility);
  Mask2FormerOutputs out = model.forward_all(batch, outputs != nullptr);
  const torch::Tensor masks = F::interpolate(out.predictor.final.masks,
                                             F::InterpolateFuncOptions()
                                                 .size(std::vector<std::int64_t>{batch.size(2), batch.size(3)})
                                                 .mode(torch::kBilinear)
                                                 .align_corners(false));
  torch::Tensor semseg = semantic_inference(out.predictor.final.logits[0], masks[0]);
  // sem_seg_postprocess: crop the padding, resize to the requested output size.
  semseg = semseg.index({Slice(), Slice(0, h), Slice(0, w)}).unsqueeze(0);
  semseg = F::interpolate(semseg, F::InterpolateFuncOptions()
                                      .size(std::vector<std::int64_t>{height, width})
                                      .mode(torch::kBilinear)
                                      .align_corners(false))[0];
  if (outputs != nullptr) *outputs = std::move(out);
  return semseg;
}

}  // namespace prismer::experts::seg
