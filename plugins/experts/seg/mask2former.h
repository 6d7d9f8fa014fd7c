// Mask2Former (detectron2 MaskFormer meta-architecture) as Prismer's seg_coco / seg_ade experts run it: Swin
// backbone, pixel decoder, masked transformer decoder, and the semantic inference path
// (INSTANCE_ON = PANOPTIC_ON = False). Parameter names are the model's state_dict names (`backbone.*`,
// `sem_seg_head.pixel_decoder.*`, `sem_seg_head.predictor.*`); the .pkl's older names are mapped by checkpoint.h.
#pragma once

#include "config.h"
#include "pixel_decoder.h"
#include "swin.h"
#include "transformer_decoder.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace prismer::experts::seg {

/// Every tensor the parity fixtures name, from one forward.
struct Mask2FormerOutputs {
  std::array<torch::Tensor, 4> backbone;  ///< res2..res5
  PixelDecoderOutput pixel_decoder;
  DecoderOutput predictor;
};

class Mask2FormerImpl : public torch::nn::Module {
 public:
  explicit Mask2FormerImpl(const Mask2FormerConfig& cfg = {});
  /// The network on a normalised, padded batch [B, 3, H, W] (H, W multiples of 32).
  Mask2FormerOutputs forward_all(const torch::Tensor& images, bool keep_aux);
  const Mask2FormerConfig& config() const { return cfg_; }

  SwinTransformer backbone{nullptr};
  std::shared_ptr<torch::nn::Module> sem_seg_head;
  PixelDecoder pixel_decoder{nullptr};       ///< sem_seg_head.pixel_decoder
  TransformerDecoder predictor{nullptr};     ///< sem_seg_head.predictor

 private:
  Mask2FormerConfig cfg_;
};
TORCH_MODULE(Mask2Former);

/// MaskFormer.semantic_inference: einsum(softmax(logits)[:, :-1], sigmoid(masks)) for one image:
/// logits [Q, K+1], masks [Q, H, W] -> [K, H, W].
torch::Tensor semantic_inference(const torch::Tensor& logits, const torch::Tensor& masks);

/// The inference part of MaskFormer.forward for ONE image (no batch padding with neighbours):
/// `image` is the model input as the original's data loader makes it ([3, h, w] float, 0..255, channel order as
/// given); normalised with PIXEL_MEAN/STD, zero-padded to a multiple of size_divisibility, forward, masks
/// upsampled to the padded size, semantic inference, crop to (h, w), bilinear to (height, width).
/// Returns the class scores [K, height, width] (float32, on the model's device).
torch::Tensor semantic_segmentation(Mask2FormerImpl& model, const torch::Tensor& image, std::int64_t height,
                                    std::int64_t width, Mask2FormerOutputs* outputs = nullptr);

/// The normalised, zero-padded network input [1, 3, Hp, Wp] for one model-input image [3, h, w].
torch::Tensor normalize_and_pad(const torch::Tensor& image, std::int64_t size_divisibility);

}  // namespace prismer::experts::seg
