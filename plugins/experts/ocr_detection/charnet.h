// CharNet with the Hourglass-88 backbone (experts/ocr_detection/charnet/modeling/{model.py,backbone/hourglass.py}),
// module and parameter names exactly those of the official icdar2015_hourglass88.pth state_dict.
#pragma once

#include <torch/nn.h>

#include <memory>

namespace prismer::experts::ocr {

/// hourglass.py Residual: conv3x3-BN-ReLU, conv3x3-BN, plus the input (or a conv3x3-BN `skip` when the shape
/// changes), then ReLU.
class ResidualImpl : public torch::nn::Module {
 public:
  ResidualImpl(int64_t in_channels, int64_t out_channels, int64_t stride = 1);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential conv_1_{nullptr}, conv_2_{nullptr}, skip_{nullptr};
};
TORCH_MODULE(Residual);

/// hourglass.py HourGlassBlock(n, channels, blocks): `up_1` at full size, max-pool, `low_1`, `low_2` (a nested
/// block, or plain residuals at n = 1), `low_3`, then bilinear 2x upsampling (align_corners=True) + `up_1`.
class HourGlassBlockImpl : public torch::nn::Module {
 public:
  HourGlassBlockImpl(int n, const std::vector<int64_t>& channels, const std::vector<int64_t>& blocks);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential up_1_{nullptr}, low_1_{nullptr}, low_3_{nullptr};
  torch::nn::Sequential low_2_plain_{nullptr};        // n <= 1
  std::shared_ptr<HourGlassBlockImpl> low_2_nested_;  // n > 1
};
TORCH_MODULE(HourGlassBlock);

/// The named intermediates the parity tests compare.
struct CharNetOutputs {
  torch::Tensor pre;         ///< backbone.pre output [B, 256, H/4, W/4]
  torch::Tensor hourglass0;  ///< hourglass_blocks[0] output
  torch::Tensor features;    ///< backbone output (hourglass_blocks[1])
  torch::Tensor word_fg_logits, word_tblr, word_orient;  ///< word_detector (tblr after relu * 10)
  torch::Tensor char_fg_logits, char_tblr;               ///< char_detector
  torch::Tensor char_logits;                             ///< char_recognizer [B, 68, H/4, W/4]
};

/// The network half of CharNet.forward: backbone (hourglass88) and the three heads, without softmax.
/// Input: [B, 3, H, W] normalised images, H and W multiples of 32.
class CharNetImpl : public torch::nn::Module {
 public:
  explicit CharNetImpl(int64_t num_char_classes = 68);
  CharNetOutputs forward_all(const torch::Tensor& images);

 private:
  torch::nn::Sequential pre_{nullptr}, hourglass_blocks_{nullptr};
  torch::nn::Sequential word_det_conv_final_{nullptr}, word_fg_feat_{nullptr}, word_regression_feat_{nullptr};
  torch::nn::Conv2d word_fg_pred_{nullptr}, word_tblr_pred_{nullptr}, orient_pred_{nullptr};
  torch::nn::Sequential character_det_conv_final_{nullptr}, char_fg_feat_{nullptr}, char_regression_feat_{nullptr};
  torch::nn::Conv2d char_fg_pred_{nullptr}, char_tblr_pred_{nullptr};
  torch::nn::ModuleList char_body_{nullptr};  // three _conv3x3_bn_relu blocks
  torch::nn::Conv2d classifier_{nullptr};
};
TORCH_MODULE(CharNet);

}  // namespace prismer::experts::ocr
