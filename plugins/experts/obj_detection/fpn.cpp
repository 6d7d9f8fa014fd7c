#include "fpn.h"

namespace prismer::experts::obj_detection {

FpnBackboneImpl::FpnBackboneImpl(std::vector<std::int64_t> blocks) {
  // Registration order follows detectron2's FPN (laterals and outputs interleaved, top block, bottom_up last is
  // irrelevant for loading by name).
  const std::int64_t in_channels[3] = {512, 1024, 2048};
  for (int i = 0; i < 3; ++i) {
    const std::string level = std::to_string(i + 3);
    lateral_.push_back(register_module("fpn_lateral" + level,
                                       ConvNorm(conv_options(in_channels[i], 256, 1, 1, 0, NormKind::batch))));
    output_.push_back(register_module("fpn_output" + level,
                                      ConvNorm(conv_options(256, 256, 3, 1, 1, NormKind::batch))));
  }
  auto top = register_module("top_block", std::make_shared<torch::nn::Module>());
  p6_ = top->register_module("p6", torch::nn::Conv2d(torch::nn::Conv2dOptions(256, 256, 3).stride(2).padding(1)));
  p7_ = top->register_module("p7", torch::nn::Conv2d(torch::nn::Conv2dOptions(256, 256, 3).stride(2).padding(1)));
  bottom_up_ = register_module("bottom_up", ResNeSt(std::move(blocks)));
}

FeatureMap FpnBackboneImpl::forward(const torch::Tensor& x) {
  FeatureMap out = bottom_up_->forward(x);
  const torch::Tensor c[3] = {out.at("res3"), out.at("res4"), out.at("res5")};
  torch::Tensor prev = lateral_[2]->forward(c[2]);
  out["p5"] = output_[2]->forward(prev);
  for (int i = 1; i >= 0; --i) {
    const torch::Tensor top_down = torch::upsample_nearest2d(prev, {prev.size(2) * 2, prev.size(3) * 2});
    prev = lateral_[i]->forward(c[i]) + top_down;
    out["p" + std::to_string(i + 3)] = output_[i]->forward(prev);
  }
  const torch::Tensor p6 = p6_->forward(out.at("p5"));
  out["p6"] = p6;
  out["p7"] = p7_->forward(torch::relu(p6));
  return out;
}

}  // namespace prismer::experts::obj_detection
