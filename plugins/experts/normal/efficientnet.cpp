#include "efficientnet.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace prismer::normal {

namespace F = torch::nn::functional;

namespace {

// tf_ variants use TensorFlow's BatchNorm epsilon.
constexpr double kTfBnEps = 1e-3;

// geffnet's _gen_efficientnet arch_def (ds_r1_k3_s1_e1_c16, ir_r2_k3_s2_e6_c24, ...), before the multipliers.
struct StageDef {
  std::int64_t repeats, kernel, stride, expand, channels;
};
constexpr StageDef kStages[] = {{1, 3, 1, 1, 16}, {2, 3, 2, 6, 24}, {2, 5, 2, 6, 40}, {3, 3, 2, 6, 80},
                                {3, 5, 1, 6, 112}, {4, 5, 2, 6, 192}, {1, 3, 1, 6, 320}};
constexpr double kChannelMultiplier = 1.6;
constexpr double kDepthMultiplier = 2.2;

torch::nn::BatchNorm2d batch_norm(std::int64_t channels, double eps) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(eps));
}

// TF "SAME" padding total for one dimension (geffnet _calc_same_pad, dilation 1).
std::int64_t same_pad(std::int64_t size, std::int64_t kernel, std::int64_t stride) {
  const std::int64_t out = (size + stride - 1) / stride;
  return std::max<std::int64_t>((out - 1) * stride + kernel - size, 0);
}

}  // namespace

std::int64_t make_divisible(double v, std::int64_t divisor) {
  std::int64_t new_v = std::max(divisor, static_cast<std::int64_t>(v + static_cast<double>(divisor) / 2.0) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return new_v;
}

SameConv2dImpl::SameConv2dImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                               std::int64_t groups, bool with_bias)
    : kernel_(kernel), stride_(stride), groups_(groups) {
  // Initialised as nn.Conv2d does; the real values come from the checkpoint.
  torch::nn::Conv2d init(torch::nn::Conv2dOptions(in, out, kernel).groups(groups).bias(with_bias));
  weight = register_parameter("weight", init->weight.detach().clone());
  if (with_bias) bias = register_parameter("bias", init->bias.detach().clone());
}

torch::Tensor SameConv2dImpl::forward(const torch::Tensor& x) {
  if (stride_ == 1 && kernel_ % 2 == 1)  // static symmetric padding (geffnet's _is_static_pad)
    return F::conv2d(x, weight, F::Conv2dFuncOptions().bias(bias).padding((kernel_ - 1) / 2).groups(groups_));
  const std::int64_t ph = same_pad(x.size(2), kernel_, stride_), pw = same_pad(x.size(3), kernel_, stride_);
  torch::Tensor padded = x;
  if (ph > 0 || pw > 0) padded = F::pad(x, F::PadFuncOptions({pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}));
  return F::conv2d(padded, weight, F::Conv2dFuncOptions().bias(bias).stride(stride_).groups(groups_));
}

SqueezeExciteImpl::SqueezeExciteImpl(std::int64_t channels, std::int64_t reduced)
    : conv_reduce(register_module("conv_reduce", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, reduced, 1)))),
      conv_expand(register_module("conv_expand", torch::nn::Conv2d(torch::nn::Conv2dOptions(reduced, channels, 1)))) {}

torch::Tensor SqueezeExciteImpl::forward(const torch::Tensor& x) {
  torch::Tensor s = x.mean({2, 3}, /*keepdim=*/true);
  s = conv_expand(torch::silu(conv_reduce(s)));
  return x * torch::sigmoid(s);
}

MBConvBlockImpl::MBConvBlockImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                 std::int64_t expand, double bn_eps)
    : depthwise_separable_(expand == 1), residual_(stride == 1 && in == out) {
  // geffnet's SE reduces from the block's input channels (reduced_base_chs = in_chs), divisor 1.
  const std::int64_t se_reduced = make_divisible(static_cast<double>(in) * 0.25, 1);
  if (depthwise_separable_) {
    conv_dw = register_module("conv_dw", SameConv2d(in, in, kernel, stride, in));
    bn1 = register_module("bn1", batch_norm(in, bn_eps));
    se = register_module("se", SqueezeExcite(in, se_reduced));
    conv_pw = register_module("conv_pw", SameConv2d(in, out, 1));
    bn2 = register_module("bn2", batch_norm(out, bn_eps));
  } else {
    const std::int64_t mid = make_divisible(static_cast<double>(in * expand));
    conv_pw = register_module("conv_pw", SameConv2d(in, mid, 1));
    bn1 = register_module("bn1", batch_norm(mid, bn_eps));
    conv_dw = register_module("conv_dw", SameConv2d(mid, mid, kernel, stride, mid));
    bn2 = register_module("bn2", batch_norm(mid, bn_eps));
    se = register_module("se", SqueezeExcite(mid, se_reduced));
    conv_pwl = register_module("conv_pwl", SameConv2d(mid, out, 1));
    bn3 = register_module("bn3", batch_norm(out, bn_eps));
  }
}

torch::Tensor MBConvBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y;
  if (depthwise_separable_) {
    y = se(torch::silu(bn1(conv_dw(x))));
    y = bn2(conv_pw(y));
  } else {
    y = torch::silu(bn1(conv_pw(x)));
    y = se(torch::silu(bn2(conv_dw(y))));
    y = bn3(conv_pwl(y));
  }
  if (residual_) y += x;
  return y;
}

EfficientNetImpl::EfficientNetImpl() {
  const std::int64_t stem = make_divisible(32 * kChannelMultiplier);
  conv_stem = register_module("conv_stem", SameConv2d(3, stem, 3, 2));
  bn1 = register_module("bn1", batch_norm(stem, kTfBnEps));
  blocks = register_module("blocks", torch::nn::ModuleList());
  std::int64_t in = stem;
  for (const StageDef& s : kStages) {
    // depth_trunc 'ceil' with one block definition per stage: ceil(repeats * depth multiplier).
    const auto repeats = static_cast<std::int64_t>(std::ceil(static_cast<double>(s.repeats) * kDepthMultiplier));
    const std::int64_t out = make_divisible(static_cast<double>(s.channels) * kChannelMultiplier);
    torch::nn::ModuleList stage;
    for (std::int64_t i = 0; i < repeats; ++i) {
      stage->push_back(MBConvBlock(in, out, s.kernel, i == 0 ? s.stride : 1, s.expand, kTfBnEps));
      in = out;
    }
    blocks->push_back(stage);
  }
  const std::int64_t features = make_divisible(1280 * kChannelMultiplier);
  conv_head = register_module("conv_head", SameConv2d(in, features, 1));
  // bn2 (and act2) follow conv_head in the trunk; the decoder reads conv_head's raw output, so bn2 is loaded
  // with the checkpoint but never run.
  bn2 = register_module("bn2", batch_norm(features, kTfBnEps));
}

EncoderFeatures EfficientNetImpl::forward(const torch::Tensor& x) {
  EncoderFeatures f;
  torch::Tensor y = torch::silu(bn1(conv_stem(x)));
  for (std::size_t s = 0; s < blocks->size(); ++s) {
    for (const auto& block : *blocks[s]->as<torch::nn::ModuleList>()) y = block->as<MBConvBlock>()->forward(y);
    if (s == 0) f.block0 = y;
    else if (s == 1) f.block1 = y;
    else if (s == 2) f.block2 = y;
    else if (s == 4) f.block4 = y;
  }
  f.head = conv_head(y);
  return f;
}

}  // namespace prismer::normal
