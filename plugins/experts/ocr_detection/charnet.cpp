#include "charnet.h"

#include <torch/torch.h>

namespace F = torch::nn::functional;

namespace prismer::experts::ocr {

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

torch::nn::BatchNorm2d bn(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5));
}

// _make_layer: the first block changes the channels, the rest keep them.
torch::nn::Sequential make_layer(int64_t in, int64_t out, int64_t blocks) {
  torch::nn::Sequential s;
  s->push_back(Residual(in, out));
  for (int64_t i = 1; i < blocks; ++i) s->push_back(Residual(out, out));
  return s;
}

// _make_layer_revr: the last block changes the channels.
torch::nn::Sequential make_layer_revr(int64_t in, int64_t out, int64_t blocks) {
  torch::nn::Sequential s;
  for (int64_t i = 0; i + 1 < blocks; ++i) s->push_back(Residual(in, in));
  s->push_back(Residual(in, out));
  return s;
}

// model.py _conv3x3_bn_relu: an OrderedDict with `conv` (no bias), `bn`, `relu`.
torch::nn::Sequential conv3x3_bn_relu(int64_t in, int64_t out) {
  torch::nn::Sequential s;
  s->push_back("conv", conv(in, out, 3, 1, 1, false));
  s->push_back("bn", bn(out));
  s->push_back("relu", torch::nn::ReLU());
  return s;
}

}  // namespace

ResidualImpl::ResidualImpl(int64_t in_channels, int64_t out_channels, int64_t stride) {
  conv_1_ = register_module("conv_1", torch::nn::Sequential(conv(in_channels, out_channels, 3, stride, 1, false),
                                                            bn(out_channels), torch::nn::ReLU()));
  conv_2_ = register_module("conv_2", torch::nn::Sequential(conv(out_channels, out_channels, 3, 1, 1, false),
                                                            bn(out_channels)));
  if (stride != 1 || in_channels != out_channels)
    skip_ = register_module("skip", torch::nn::Sequential(conv(in_channels, out_channels, 3, stride, 1, false),
                                                          bn(out_channels)));
}

torch::Tensor ResidualImpl::forward(const torch::Tensor& x) {
  const torch::Tensor b1 = conv_2_->forward(conv_1_->forward(x));
  return torch::relu(b1 + (skip_ ? skip_->forward(x) : x));
}

HourGlassBlockImpl::HourGlassBlockImpl(int n, const std::vector<int64_t>& channels,
                                       const std::vector<int64_t>& blocks) {
  up_1_ = register_module("up_1", make_layer(channels[0], channels[0], blocks[0]));
  low_1_ = register_module("low_1", make_layer(channels[0], channels[1], blocks[0]));
  if (n <= 1) {
    low_2_plain_ = register_module("low_2", make_layer(channels[1], channels[1], blocks[1]));
  } else {
    low_2_nested_ = register_module(
        "low_2", std::make_shared<HourGlassBlockImpl>(n - 1, std::vector<int64_t>(channels.begin() + 1, channels.end()),
                                                      std::vector<int64_t>(blocks.begin() + 1, blocks.end())));
  }
  low_3_ = register_module("low_3", make_layer_revr(channels[1], channels[0], blocks[0]));
}

torch::Tensor HourGlassBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor up_1 = up_1_->forward(x);
  torch::Tensor low = low_1_->forward(F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2)));
  low = low_2_nested_ ? low_2_nested_->forward(low) : low_2_plain_->forward(low);
  low = low_3_->forward(low);
  // F.interpolate(scale_factor=2, bilinear, align_corners=True): the output is exactly twice the size.
  low = F::interpolate(low, F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{2 * low.size(2), 2 * low.size(3)})
                                .mode(torch::kBilinear)
                                .align_corners(true));
  return low + up_1;
}

CharNetImpl::CharNetImpl(int64_t num_char_classes) {
  // backbone = HourGlassNet(3, [256, 256, 256, 512], [2, 2, 2, 2]) (hourglass88); no decoder.
  auto backbone = std::make_shared<torch::nn::Module>("HourGlassNet");
  pre_ = backbone->register_module(
      "pre", torch::nn::Sequential(conv(3, 128, 7, 2, 3, false), bn(128), torch::nn::ReLU(), Residual(128, 256, 2)));
  hourglass_blocks_ = backbone->register_module("hourglass_blocks", torch::nn::Sequential());
  for (int i = 0; i < 2; ++i) hourglass_blocks_->push_back(HourGlassBlock(3, std::vector<int64_t>{256, 256, 256, 512},
                                                                          std::vector<int64_t>{2, 2, 2, 2}));
  register_module("backbone", backbone);

  constexpr int64_t kDecoder = 256, kBottleneck = 128;
  auto word = std::make_shared<torch::nn::Module>("WordDetector");
  word_det_conv_final_ = word->register_module("word_det_conv_final", conv3x3_bn_relu(kDecoder, kBottleneck));
  word_fg_feat_ = word->register_module("word_fg_feat", conv3x3_bn_relu(kBottleneck, kBottleneck));
  word_regression_feat_ = word->register_module("word_regression_feat", conv3x3_bn_relu(kBottleneck, kBottleneck));
  word_fg_pred_ = word->register_module("word_fg_pred", conv(kBottleneck, 2, 1, 1, 0, true));
  word_tblr_pred_ = word->register_module("word_tblr_pred", conv(kBottleneck, 4, 1, 1, 0, true));
  orient_pred_ = word->register_module("orient_pred", conv(kBottleneck, 1, 1, 1, 0, true));
  register_module("word_detector", word);

  auto chars = std::make_shared<torch::nn::Module>("CharDetector");
  character_det_conv_final_ =
      chars->register_module("character_det_conv_final", conv3x3_bn_relu(kDecoder, kBottleneck));
  char_fg_feat_ = chars->register_module("char_fg_feat", conv3x3_bn_relu(kBottleneck, kBottleneck));
  char_regression_feat_ = chars->register_module("char_regression_feat", conv3x3_bn_relu(kBottleneck, kBottleneck));
  char_fg_pred_ = chars->register_module("char_fg_pred", conv(kBottleneck, 2, 1, 1, 0, true));
  char_tblr_pred_ = chars->register_module("char_tblr_pred", conv(kBottleneck, 4, 1, 1, 0, true));
  register_module("char_detector", chars);

  auto recognizer = std::make_shared<torch::nn::Module>("CharRecognizer");
  char_body_ = recognizer->register_module(
      "body", torch::nn::ModuleList(conv3x3_bn_relu(kDecoder, kBottleneck), conv3x3_bn_relu(kBottleneck, kBottleneck),
                                    conv3x3_bn_relu(kBottleneck, kBottleneck)));
  classifier_ = recognizer->register_module("classifier", conv(kBottleneck, num_char_classes, 1, 1, 0, true));
  register_module("char_recognizer", recognizer);
}

CharNetOutputs CharNetImpl::forward_all(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "CharNet: expected images [B, 3, H, W], got ",
              images.sizes());
  TORCH_CHECK(images.size(2) % 32 == 0 && images.size(3) % 32 == 0,
              "CharNet: the hourglass needs H and W divisible by 32, got ", images.sizes());
  CharNetOutputs o;
  o.pre = pre_->forward(images);
  o.hourglass0 = hourglass_blocks_[0]->as<HourGlassBlockImpl>()->forward(o.pre);
  o.features = hourglass_blocks_[1]->as<HourGlassBlockImpl>()->forward(o.hourglass0);

  const torch::Tensor word_feat = word_det_conv_final_->forward(o.features);
  o.word_fg_logits = word_fg_pred_->forward(word_fg_feat_->forward(word_feat));
  const torch::Tensor word_regression = word_regression_feat_->forward(word_feat);
  o.word_tblr = torch::relu(word_tblr_pred_->forward(word_regression)) * 10.0;
  o.word_orient = orient_pred_->forward(word_regression);

  const torch::Tensor char_feat = character_det_conv_final_->forward(o.features);
  o.char_fg_logits = char_fg_pred_->forward(char_fg_feat_->forward(char_feat));
  o.char_tblr = torch::relu(char_tblr_pred_->forward(char_regression_feat_->forward(char_feat))) * 10.0;

  torch::Tensor body = o.features;
  for (const auto& block : *char_body_) body = block->as<torch::nn::SequentialImpl>()->forward(body);
  o.char_logits = classifier_->forward(body);
  return o;
}

}  // namespace prismer::experts::ocr
