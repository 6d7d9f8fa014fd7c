#include "stems.h"

#include <string>

namespace F = torch::nn::functional;

namespace prismer::backbone {

StemImpl::StemImpl(StemKind kind, std::int64_t in_channels, std::int64_t width, std::int64_t patch_size)
    : kind_(kind), patch_(patch_size) {
  if (kind == StemKind::patch) {
    weight_ = register_parameter("weight", torch::empty({width, in_channels, patch_size, patch_size}));
    torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));
    return;
  }
  const std::int64_t chans[5] = {in_channels, width / 8, width / 4, width / 2, width};
  const bool dense = kind == StemKind::dense;
  const std::int64_t strides[4] = {2, 2, dense ? 2 : 1, dense ? 2 : 1};
  for (int i = 0; i < 4; ++i) {
    auto conv = torch::nn::Conv2d(
        torch::nn::Conv2dOptions(chans[i], chans[i + 1], 3).stride(strides[i]).padding(1).bias(false));
    convs_.push_back(register_module(std::to_string(1 + 3 * i), conv));
    norms_.push_back(register_module(std::to_string(2 + 3 * i), torch::nn::BatchNorm2d(chans[i + 1])));
  }
  convs_.push_back(register_module(
      "13", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 1).stride(1).padding(0).bias(false))));
}

torch::Tensor StemImpl::forward(const torch::Tensor& x) {
  if (kind_ == StemKind::patch) return F::conv2d(x, weight_, F::Conv2dFuncOptions().stride(patch_));
  const double scale = (kind_ == StemKind::dense ? 16.0 : 4.0) / static_cast<double>(patch_);
  // nn.UpsamplingBilinear2d(scale_factor) == interpolate(bilinear, align_corners=True)
  auto h = F::interpolate(x, F::InterpolateFuncOptions()
                                 .scale_factor(std::vector<double>{scale, scale})
                                 .mode(torch::kBilinear)
                                 .align_corners(true)
                                 .recompute_scale_factor(false));
  for (std::size_t i = 0; i < 4; ++i) h = torch::relu(norms_[i](convs_[i](h)));
  return convs_[4](h);
}

}  // namespace prismer::backbone
