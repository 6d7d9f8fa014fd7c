#include "dpt.h"

#include <stdexcept>
#include <string>

namespace F = torch::nn::functional;

namespace prismer::experts::depth {

namespace {

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1, bool bias = true) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding((kernel - 1) / 2).bias(bias));
}

// nn.functional.interpolate(scale_factor=2, mode="bilinear", align_corners=True): with align_corners the scale
// factor only sets the output size (floor(2 * size)).
torch::Tensor upsample2x(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<std::int64_t>{2 * x.size(2), 2 * x.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(true));
}

}  // namespace

ResidualConvUnitImpl::ResidualConvUnitImpl(std::int64_t features) {
  conv1 = register_module("conv1", conv(features, features, 3));
  conv2 = register_module("conv2", conv(features, features, 3));
}

torch::Tensor ResidualConvUnitImpl::forward(const torch::Tensor& x) {
  return conv2(conv1(torch::relu(x)).relu_()) + x;
}

FeatureFusionBlockImpl::FeatureFusionBlockImpl(std::int64_t features) {
  out_conv = register_module("out_conv", conv(features, features, 1));
  resConfUnit1 = register_module("resConfUnit1", ResidualConvUnit(features));
  resConfUnit2 = register_module("resConfUnit2", ResidualConvUnit(features));
}

torch::Tensor FeatureFusionBlockImpl::forward(const torch::Tensor& x0, const std::optional<torch::Tensor>& x1) {
  torch::Tensor out = x1 ? x0 + resConfUnit1(*x1) : x0;
  return out_conv(upsample2x(resConfUnit2(out)));
}

ProjectReadoutImpl::ProjectReadoutImpl(std::int64_t width) {
  project = register_module("project", std::make_shared<torch::nn::Module>());
  linear = project->register_module("0", torch::nn::Linear(2 * width, width));
}

torch::Tensor ProjectReadoutImpl::forward(const torch::Tensor& tokens) {
  const torch::Tensor body = tokens.slice(1, 1);
  const torch::Tensor readout = tokens.select(1, 0).unsqueeze(1).expand_as(body);
  return torch::gelu(linear(torch::cat({body, readout}, -1)));
}

DptDepthModelImpl::DptDepthModelImpl(const VitHybridConfig& vit, std::int64_t features) {
  const std::int64_t w = vit.width;
  // Registration order follows the Python model, so named_parameters() lists the official state_dict order.
  pretrained = register_module("pretrained", std::make_shared<torch::nn::Module>());
  model = pretrained->register_module("model", VitHybrid(vit));
  auto post3 = pretrained->register_module("act_postprocess3", std::make_shared<torch::nn::Module>());
  readout3 = post3->register_module("0", ProjectReadout(w));
  post3_conv = post3->register_module("3", conv(w, w, 1));
  auto post4 = pretrained->register_module("act_postprocess4", std::make_shared<torch::nn::Module>());
  readout4 = post4->register_module("0", ProjectReadout(w));
  post4_conv = post4->register_module("3", conv(w, w, 1));
  post4_down = post4->register_module("4", conv(w, w, 3, 2));

  scratch = register_module("scratch", std::make_shared<torch::nn::Module>());
  const std::int64_t stage_channels[2] = {256, 512};  // ResNetV2 stages 0 and 1
  const std::int64_t in_channels[4] = {stage_channels[0], stage_channels[1], w, w};
  for (int i = 0; i < 4; ++i)
    layer_rn[i] = scratch->register_module("layer" + std::to_string(i + 1) + "_rn", conv(in_channels[i], features, 3, 1, false));
  for (int i = 0; i < 4; ++i)
    refinenet[i] = scratch->register_module("refinenet" + std::to_string(i + 1), FeatureFusionBlock(features));
  output_conv = scratch->register_module("output_conv", std::make_shared<torch::nn::Module>());
  head0 = output_conv->register_module("0", conv(features, features / 2, 3));
  head2 = output_conv->register_module("2", conv(features / 2, 32, 3));
  head4 = output_conv->register_module("4", conv(32, 1, 1));
}

torch::Tensor DptDepthModelImpl::forward(const torch::Tensor& x) { return run(x, false).output; }

DptOutputs DptDepthModelImpl::forward_all(const torch::Tensor& x) { return run(x, true); }

DptOutputs DptDepthModelImpl::run(const torch::Tensor& x, bool keep) {
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) % 32 != 0 || x.size(3) % 32 != 0)
    throw std::invalid_argument("DPT: expected an input [B, 3, H, W] with H and W multiples of 32, got " +
                                c10::str(x.sizes()));
  const std::int64_t b = x.size(0), gh = x.size(2) / 16, gw = x.size(3) / 16;
  VitHybridFeatures f = model->forward(x, {8, 11});  // hooks [0, 1, 8, 11]: stages 0/1 and blocks 8/11
  DptOutputs o;
  o.hook1 = f.stages[0];
  o.hook2 = f.stages[1];
  o.hook3 = f.tokens[0];
  o.hook4 = f.tokens[1];
  // forward_vit: act_postprocess1/2 are identities; 3/4 project the readout, unflatten to the patch grid, conv.
  auto unflatten = [&](const torch::Tensor& t) { return t.transpose(1, 2).reshape({b, t.size(2), gh, gw}); };
  const torch::Tensor layer3 = post3_conv(unflatten(readout3(o.hook3)));
  const torch::Tensor layer4 = post4_down(post4_conv(unflatten(readout4(o.hook4))));
  o.layer_rn = {layer_rn[0](o.hook1), layer_rn[1](o.hook2), layer_rn[2](layer3), layer_rn[3](layer4)};
  if (!keep) {
    f = {};
    o.hook1 = o.hook2 = o.hook3 = o.hook4 = torch::Tensor();
  }
  o.refinenet[3] = refinenet[3](o.layer_rn[3]);
  o.refinenet[2] = refinenet[2](o.refinenet[3], o.layer_rn[2]);
  o.refinenet[1] = refinenet[1](o.refinenet[2], o.layer_rn[1]);
  o.refinenet[0] = refinenet[0](o.refinenet[1], o.layer_rn[0]);
  torch::Tensor out = upsample2x(head0(o.refinenet[0]));
  out = head4(head2(out).relu_()).relu_();
  o.output = out.squeeze(1);
  if (!keep) {
    o.layer_rn = {};
    o.refinenet = {};
  }
  return o;
}

}  // namespace prismer::experts::depth
