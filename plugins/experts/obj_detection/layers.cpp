#include "layers.h"

namespace prismer::experts::obj_detection {

NormImpl::NormImpl(std::int64_t channels, NormKind kind) : kind_(kind) {
  weight_ = register_parameter("weight", torch::ones({channels}));
  bias_ = register_parameter("bias", torch::zeros({channels}));
  mean_ = register_buffer("running_mean", torch::zeros({channels}));
  var_ = register_buffer("running_var", torch::ones({channels}));
  if (kind == NormKind::batch) register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  if (kind_ == NormKind::batch)
    return torch::batch_norm(x, weight_, bias_, mean_, var_, /*training=*/false, 0.1, 1e-5, /*cudnn=*/true);
  // FrozenBatchNorm2d.forward: scale = w * rsqrt(var + eps); bias = b - mean * scale; x * scale + bias.
  const torch::Tensor scale = weight_ * (var_ + 1e-5).rsqrt();
  const torch::Tensor shift = bias_ - mean_ * scale;
  return x * scale.reshape({1, -1, 1, 1}) + shift.reshape({1, -1, 1, 1});
}

ConvNormImpl::ConvNormImpl(const Options& o) : o_(o) {
  weight_ = register_parameter("weight", torch::empty({o.out, o.in / o.groups, o.kernel, o.kernel}));
  torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));
  if (o.bias) bias_ = register_parameter("bias", torch::zeros({o.out}));
  if (o.norm != NormKind::none) norm_ = register_module("norm", Norm(o.out, o.norm));
}

torch::Tensor ConvNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::conv2d(x, weight_, bias_, o_.stride, o_.padding, 1, o_.groups);
  return norm_ ? norm_->forward(y) : y;
}

ConvNormImpl::Options conv_options(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                   std::int64_t padding, NormKind norm, bool bias, std::int64_t groups) {
  ConvNormImpl::Options o;
  o.in = in;
  o.out = out;
  o.kernel = kernel;
  o.stride = stride;
  o.padding = padding;
  o.norm = norm;
  o.bias = bias;
  o.groups = groups;
  return o;
}

}  // namespace prismer::experts::obj_detection
