// The sizes of Mask2Former (Swin-L, semantic inference) as Prismer's seg_coco / seg_ade configs set them
// (experts/segmentation/configs/{coco,ade20k}/panoptic-segmentation/swin/maskformer2_swin_large_IN21k_384_*.yaml).
#pragma once

#include <cstdint>
#include <vector>

namespace prismer::experts::seg {

/// D2SwinTransformer (MODEL.SWIN.*). Defaults: Swin-L, window 12 (IN21k 384 pre-training).
struct SwinConfig {
  std::int64_t embed_dim = 192;
  std::vector<std::int64_t> depths{2, 2, 18, 2};
  std::vector<std::int64_t> num_heads{6, 12, 24, 48};
  std::int64_t window_size = 12;
  std::int64_t patch_size = 4;
  double mlp_ratio = 4.0;
};

/// The whole MaskFormer: backbone, MSDeformAttnPixelDecoder, MultiScaleMaskedTransformerDecoder.
struct Mask2FormerConfig {
  SwinConfig swin;
  std::int64_t num_classes = 133;   ///< SEM_SEG_HEAD.NUM_CLASSES: 133 COCO panoptic, 150 ADE20k
  std::int64_t conv_dim = 256;      ///< CONVS_DIM (= MASK_DIM = HIDDEN_DIM here)
  std::int64_t encoder_layers = 6;  ///< TRANSFORMER_ENC_LAYERS
  std::int64_t encoder_ffn = 1024;  ///< hard-coded in MSDeformAttnPixelDecoder.from_config
  std::int64_t encoder_points = 4;  ///< enc_n_points
  std::int64_t heads = 8;           ///< MASK_FORMER.NHEADS (pixel decoder and transformer decoder)
  std::int64_t num_queries = 200;   ///< NUM_OBJECT_QUERIES (Swin-L configs)
  std::int64_t decoder_layers = 9;  ///< DEC_LAYERS - 1
  std::int64_t decoder_ffn = 2048;  ///< DIM_FEEDFORWARD
  std::int64_t size_divisibility = 32;

  /// Prismer's seg_coco (COCO panoptic, 133 classes) or seg_ade (ADE20k panoptic, 150 classes).
  static Mask2FormerConfig coco() { return {}; }
  static Mask2FormerConfig ade() {
    Mask2FormerConfig c;
    c.num_classes = 150;
    return c;
  }
};

}  // namespace prismer::experts::seg
