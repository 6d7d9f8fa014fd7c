#include "resnet_v2.h"

#include <algorithm>
#include <limits>
#include <string>

namespace F = torch::nn::functional;

namespace prismer::experts::depth {

std::int64_t same_padding(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t dilation) {
  const std::int64_t out = (size + stride - 1) / stride;  // ceil(size / stride)
  return std::max<std::int64_t>((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
}

torch::Tensor pad_same(const torch::Tensor& x, std::int64_t kernel, std::int64_t stride, double value) {
  const std::int64_t ph = same_padding(x.size(-2), kernel, stride), pw = same_padding(x.size(-1), kernel, stride);
  if (ph == 0 && pw == 0) return x;
  return F::pad(x, F::PadFuncOptions({pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}).value(value));
}

StdConv2dSameImpl::StdConv2dSameImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                     double eps)
    : out_(out), kernel_(kernel), stride_(stride), eps_(eps), dynamic_(!(stride == 1 && (kernel - 1) % 2 == 0)) {
  weight = register_parameter("weight", torch::empty({out, in, kernel, kernel}));
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);  // timm's init (random mode only)
}

torch::Tensor StdConv2dSameImpl::forward(const torch::Tensor& x) {
  // The same ATen call as timm (batch_norm in training mode over each output channel's weights).
  const torch::Tensor w = torch::batch_norm(weight.reshape({1, out_, -1}), {}, {}, {}, {}, /*training=*/true,
                                            /*momentum=*/0.0, eps_, /*cudnn_enabled=*/true)
                              .reshape_as(weight);
  if (dynamic_) return F::conv2d(pad_same(x, kernel_, stride_), w, F::Conv2dFuncOptions().stride(stride_));
  return F::conv2d(x, w, F::Conv2dFuncOptions().stride(stride_).padding((kernel_ - 1) / 2));
}

GroupNormActImpl::GroupNormActImpl(std::int64_t channels, bool act, std::int64_t groups, double eps)
    : groups_(groups), eps_(eps), act_(act) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor GroupNormActImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::group_norm(x, groups_, weight, bias, eps_);
  return act_ ? y.relu_() : y;
}

DownsampleConvImpl::DownsampleConvImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
  conv = register_module("conv", StdConv2dSame(in, out, 1, stride));
  norm = register_module("norm", GroupNormAct(out, /*act=*/false));
}

torch::Tensor DownsampleConvImpl::forward(const torch::Tensor& x) { return norm(conv(x)); }

BottleneckImpl::BottleneckImpl(std::int64_t in, std::int64_t out, std::int64_t stride, bool with_downsample) {
  const std::int64_t mid = out / 4;
  // timm registers `downsample` first, so it leads the state dict.
  if (with_downsample) downsample = register_module("downsample", DownsampleConv(in, out, stride));
  conv1 = register_module("conv1", StdConv2dSame(in, mid, 1));
  norm1 = register_module("norm1", GroupNormAct(mid));
  conv2 = register_module("conv2", StdConv2dSame(mid, mid, 3, stride));
  norm2 = register_module("norm2", GroupNormAct(mid));
  conv3 = register_module("conv3", StdConv2dSame(mid, out, 1));
  norm3 = register_module("norm3", GroupNormAct(out, /*act=*/false));
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  const torch::Tensor shortcut = downsample ? downsample(x) : x;
  torch::Tensor y = norm1(conv1(x));
  y = norm2(conv2(y));
  y = norm3(conv3(y));
  return y.add_(shortcut).relu_();
}

ResNetStageImpl::ResNetStageImpl(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t depth) {
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < depth; ++i) blocks->push_back(Bottleneck(i == 0 ? in : out, out, i == 0 ? stride : 1, i == 0));
}

torch::Tensor ResNetStageImpl::forward(torch::Tensor x) {
  for (const auto& block : *blocks) x = block->as<BottleneckImpl>()->forward(x);
  return x;
}

ResNetV2Impl::ResNetV2Impl(std::vector<std::int64_t> layers, std::vector<std::int64_t> channels,
                           std::int64_t stem_channels) {
  if (layers.size() != channels.size() || layers.empty())
    throw std::invalid_argument("ResNetV2: layers and channels must be non-empty and of equal length");
  stem = register_module("stem", std::make_shared<torch::nn::Module>());
  stem_conv = stem->register_module("conv", StdConv2dSame(3, stem_channels, 7, 2));
  stem_norm = stem->register_module("norm", GroupNormAct(stem_channels));
  stages = register_module("stages", torch::nn::ModuleList());
  std::int64_t prev = stem_channels;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    stages->push_back(ResNetStage(prev, channels[i], i == 0 ? 1 : 2, layers[i]));
    prev = channels[i];
  }
  out_channels_ = prev;
}

std::vector<torch::Tensor> ResNetV2Impl::forward(const torch::Tensor& x) {
  torch::Tensor y = stem_norm(stem_conv(x));
  // MaxPool2dSame: TF-SAME padding with -inf, then an unpadded 3x3/2 max-pool.
  y = F::max_pool2d(pad_same(y, 3, 2, -std::numeric_limits<double>::infinity()), F::MaxPool2dFuncOptions(3).stride(2));
  std::vector<torch::Tensor> outs;
  outs.reserve(stages->size());
  for (const auto& stage : *stages) {
    y = stage->as<ResNetStageImpl>()->forward(y);
    outs.push_back(y);
  }
  return outs;
}

}  // namespace prismer::experts::depth
