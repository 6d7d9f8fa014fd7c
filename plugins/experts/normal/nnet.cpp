#include "nnet.h"

namespace prismer::normal {

namespace F = torch::nn::functional;

namespace {

torch::Tensor upsample_to(const torch::Tensor& x, std::int64_t h, std::int64_t w) {
  return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<std::int64_t>{h, w})
                               .mode(torch::kBilinear).align_corners(true));
}

// F.interpolate(scale_factor=2, align_corners=True): the output is floor(2 * size); with align_corners the scale
// factor itself does not enter the sampling positions.
torch::Tensor upsample2x(const torch::Tensor& x) { return upsample_to(x, 2 * x.size(2), 2 * x.size(3)); }

torch::nn::Conv2d conv3x3(std::int64_t in, std::int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

// Conv1d(in,128) ReLU Conv1d(128,128) ReLU Conv1d(128,128) ReLU Conv1d(128,4): keys .0 .2 .4 .6.
torch::nn::Sequential pixel_mlp(std::int64_t in) {
  return torch::nn::Sequential(torch::nn::Conv1d(torch::nn::Conv1dOptions(in, 128, 1)), torch::nn::ReLU(),
                               torch::nn::Conv1d(torch::nn::Conv1dOptions(128, 128, 1)), torch::nn::ReLU(),
                               torch::nn::Conv1d(torch::nn::Conv1dOptions(128, 128, 1)), torch::nn::ReLU(),
                               torch::nn::Conv1d(torch::nn::Conv1dOptions(128, 4, 1)));
}

// One refinement step of mode='test': upsample the features and the coarser prediction 2x, concatenate, run the
// per-pixel MLP over every pixel and normalise.
torch::Tensor refine(torch::nn::Sequential& mlp, const torch::Tensor& features, const torch::Tensor& coarse) {
  torch::Tensor feat = torch::cat({upsample2x(features), upsample2x(coarse)}, 1);
  const std::int64_t b = feat.size(0), c = feat.size(1), h = feat.size(2), w = feat.size(3);
  torch::Tensor out = mlp->forward(feat.view({b, c, h * w}));
  return norm_normalize(out).view({b, 4, h, w});
}

}  // namespace

torch::Tensor norm_normalize(const torch::Tensor& out) {
  const auto parts = out.split(1, 1);
  const torch::Tensor norm = torch::sqrt(parts[0].pow(2.0) + parts[1].pow(2.0) + parts[2].pow(2.0)) + 1e-10;
  const torch::Tensor kappa = torch::elu(parts[3]) + 1.0 + 0.01;  // two float32 additions, as the original
  return torch::cat({parts[0] / norm, parts[1] / norm, parts[2] / norm, kappa}, 1);
}

UpSampleBNImpl::UpSampleBNImpl(std::int64_t skip_input, std::int64_t output_features) {
  net_ = register_module(
      "_net", torch::nn::Sequential(conv3x3(skip_input, output_features), torch::nn::BatchNorm2d(output_features),
                                    torch::nn::LeakyReLU(), conv3x3(output_features, output_features),
                                    torch::nn::BatchNorm2d(output_features), torch::nn::LeakyReLU()));
}

torch::Tensor UpSampleBNImpl::forward(const torch::Tensor& x, const torch::Tensor& concat_with) {
  const torch::Tensor up = upsample_to(x, concat_with.size(2), concat_with.size(3));
  return net_->forward(torch::cat({up, concat_with}, 1));
}

DecoderImpl::DecoderImpl()
    : conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(2048, 2048, 1)))),
      out_conv_res8(register_module("out_conv_res8", conv3x3(512, 4))),
      up1(register_module("up1", UpSampleBN(2048 + 176, 1024))),
      up2(register_module("up2", UpSampleBN(1024 + 64, 512))),
      up3(register_module("up3", UpSampleBN(512 + 40, 256))),
      up4(register_module("up4", UpSampleBN(256 + 24, 128))),
      out_conv_res4(register_module("out_conv_res4", pixel_mlp(512 + 4))),
      out_conv_res2(register_module("out_conv_res2", pixel_mlp(256 + 4))),
      out_conv_res1(register_module("out_conv_res1", pixel_mlp(128 + 4))) {}

std::vector<torch::Tensor> DecoderImpl::forward(const EncoderFeatures& f, Trace* trace) {
  const torch::Tensor x_d0 = conv2(f.head);
  const torch::Tensor x_d1 = up1(x_d0, f.block4);
  const torch::Tensor x_d2 = up2(x_d1, f.block2);
  const torch::Tensor x_d3 = up3(x_d2, f.block1);
  const torch::Tensor x_d4 = up4(x_d3, f.block0);
  const torch::Tensor res8 = norm_normalize(out_conv_res8(x_d2));
  const torch::Tensor res4 = refine(out_conv_res4, x_d2, res8);
  const torch::Tensor res2 = refine(out_conv_res2, x_d3, res4);
  const torch::Tensor res1 = refine(out_conv_res1, x_d4, res2);
  if (trace != nullptr) {
    Trace& t = *trace;
    t["decoder.conv2"] = x_d0;
    t["decoder.up1"] = x_d1;
    t["decoder.up2"] = x_d2;
    t["decoder.up3"] = x_d3;
    t["decoder.up4"] = x_d4;
    t["out.res8"] = res8;
    t["out.res4"] = res4;
    t["out.res2"] = res2;
    t["out.res1"] = res1;
  }
  return {res8, res4, res2, res1};
}

EncoderImpl::EncoderImpl() : original_model(register_module("original_model", EfficientNet())) {}

NNetImpl::NNetImpl() : encoder(register_module("encoder", Encoder())), decoder(register_module("decoder", Decoder())) {}

std::vector<torch::Tensor> NNetImpl::forward(const torch::Tensor& x, Trace* trace) {
  const EncoderFeatures f = encoder->forward(x);
  if (trace != nullptr) {
    Trace& t = *trace;
    t["encoder.features.4"] = f.block0;
    t["encoder.features.5"] = f.block1;
    t["encoder.features.6"] = f.block2;
    t["encoder.features.8"] = f.block4;
    t["encoder.features.11"] = f.head;
  }
  return decoder->forward(f, trace);
}

}  // namespace prismer::normal
