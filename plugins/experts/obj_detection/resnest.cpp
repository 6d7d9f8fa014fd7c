#include "resnest.h"

#include <algorithm>

namespace prismer::experts::obj_detection {

SplitAttentionConvImpl::SplitAttentionConvImpl(std::int64_t channels, NormKind norm, std::int64_t radix)
    : channels_(channels), radix_(radix) {
  const std::int64_t inter = std::max<std::int64_t>(channels * radix / 4, 32);  // reduction_factor 4
  conv_ = register_module("conv", ConvNorm(conv_options(channels, channels * radix, 3, 1, 1, NormKind::none,
                                                        /*bias=*/false, /*groups=*/radix)));
  bn0_ = register_module("bn0", Norm(channels * radix, norm));
  fc1_ = register_module("fc1", ConvNorm(conv_options(channels, inter, 1, 1, 0, NormKind::none, /*bias=*/true)));
  bn1_ = register_module("bn1", Norm(inter, norm));
  fc2_ = register_module("fc2", ConvNorm(conv_options(inter, channels * radix, 1, 1, 0, NormKind::none, true)));
}

torch::Tensor SplitAttentionConvImpl::forward(const torch::Tensor& input) {
  const torch::Tensor x = torch::relu(bn0_->forward(conv_->forward(input)));
  const std::int64_t batch = x.size(0);
  const std::vector<torch::Tensor> splits = x.split(channels_, 1);
  // Python's sum(splits) starts from 0: ((0 + s0) + s1) - the same values as s0 + s1.
  torch::Tensor gap = splits[0];
  for (std::size_t r = 1; r < splits.size(); ++r) gap = gap + splits[r];
  gap = torch::adaptive_avg_pool2d(gap, {1, 1});
  gap = torch::relu(bn1_->forward(fc1_->forward(gap)));
  const torch::Tensor atten = torch::softmax(fc2_->forward(gap).view({batch, radix_, channels_}), 1)
                                  .view({batch, -1, 1, 1});
  const std::vector<torch::Tensor> weights = atten.split(channels_, 1);
  torch::Tensor out = weights[0] * splits[0];
  for (std::size_t r = 1; r < splits.size(); ++r) out = out + weights[r] * splits[r];
  return out.contiguous();
}

BottleneckImpl::BottleneckImpl(std::int64_t in, std::int64_t out, std::int64_t group_width, std::int64_t stride,
                               NormKind norm)
    : stride_(stride) {
  if (in != out) shortcut_ = register_module("shortcut", ConvNorm(conv_options(in, out, 1, 1, 0, norm)));
  conv1_ = register_module("conv1", ConvNorm(conv_options(in, group_width, 1, 1, 0, norm)));
  conv2_ = register_module("conv2", SplitAttentionConv(group_width, norm));
  conv3_ = register_module("conv3", ConvNorm(conv_options(group_width, out, 1, 1, 0, norm)));
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = torch::relu(conv1_->forward(x));
  out = conv2_->forward(out);
  // avd: the stride is an average pool after the split-attention conv (count_include_pad=True).
  if (stride_ > 1) out = torch::avg_pool2d(out, 3, stride_, 1, /*ceil_mode=*/false, /*count_include_pad=*/true);
  out = conv3_->forward(out);
  torch::Tensor shortcut = x;
  if (shortcut_) {
    // avg_down: AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False), identity for stride 1.
    const torch::Tensor pooled =
        stride_ > 1 ? torch::avg_pool2d(x, stride_, stride_, 0, /*ceil_mode=*/true, /*count_include_pad=*/false) : x;
    shortcut = shortcut_->forward(pooled);
  }
  return torch::relu(out + shortcut);
}

DeepStemImpl::DeepStemImpl() {
  conv1_1_ = register_module("conv1_1", ConvNorm(conv_options(3, 64, 3, 2, 1, NormKind::frozen)));
  conv1_2_ = register_module("conv1_2", ConvNorm(conv_options(64, 64, 3, 1, 1, NormKind::frozen)));
  conv1_3_ = register_module("conv1_3", ConvNorm(conv_options(64, 128, 3, 1, 1, NormKind::frozen)));
}

torch::Tensor DeepStemImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(conv1_1_->forward(x));
  y = torch::relu(conv1_2_->forward(y));
  y = torch::relu(conv1_3_->forward(y));
  return torch::max_pool2d(y, 3, 2, 1);
}

ResNeStImpl::ResNeStImpl(std::vector<std::int64_t> blocks) {
  stem_ = register_module("stem", DeepStem());
  std::int64_t in = 128, out = 256, group_width = 64;
  for (std::size_t s = 0; s < blocks.size(); ++s) {
    torch::nn::Sequential stage;
    // FREEZE_AT=2: res2's norms are FrozenBatchNorm2d; res3-res5 use (Sync)BN.
    const NormKind norm = s == 0 ? NormKind::frozen : NormKind::batch;
    for (std::int64_t b = 0; b < blocks[s]; ++b)
      stage->push_back(Bottleneck(b == 0 ? in : out, out, group_width, b == 0 && s > 0 ? 2 : 1, norm));
    stages_.push_back(register_module("res" + std::to_string(s + 2), stage));
    in = out;
    out *= 2;
    group_width *= 2;
  }
}

std::map<std::string, torch::Tensor> ResNeStImpl::forward(const torch::Tensor& x) {
  std::map<std::string, torch::Tensor> out;
  torch::Tensor y = stem_->forward(x);
  out["stem"] = y;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    y = stages_[s]->forward(y);
    out["res" + std::to_string(s + 2)] = y;
  }
  return out;
}

}  // namespace prismer::experts::obj_detection
