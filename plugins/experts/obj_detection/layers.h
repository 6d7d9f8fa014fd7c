// detectron2's building blocks as UniDet uses them: Conv2d with an optional norm (no activation) and the two norms
// (BatchNorm in eval mode, FrozenBatchNorm2d).
#pragma once

#include <torch/torch.h>

namespace prismer::experts::obj_detection {

/// Which normalisation follows a convolution.
enum class NormKind {
  none,
  batch,   ///< SyncBN/BN in eval mode: weight, bias, running_mean, running_var, num_batches_tracked
  frozen,  ///< FrozenBatchNorm2d (stem and res2, FREEZE_AT=2): the same without num_batches_tracked
};

/// BatchNorm2d (eval) or FrozenBatchNorm2d (eps 1e-5), with the official buffer names.
class NormImpl : public torch::nn::Module {
 public:
  NormImpl(std::int64_t channels, NormKind kind);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  NormKind kind_;
  torch::Tensor weight_, bias_, mean_, var_;
};
TORCH_MODULE(Norm);

/// detectron2 `Conv2d(..., norm=...)`: convolution then the norm; the activation is the caller's.
class ConvNormImpl : public torch::nn::Module {
 public:
  struct Options {
    std::int64_t in = 0, out = 0, kernel = 1, stride = 1, padding = 0, groups = 1;
    bool bias = false;
    NormKind norm = NormKind::none;
  };
  explicit ConvNormImpl(const Options& o);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Options o_;
  torch::Tensor weight_, bias_;
  Norm norm_{nullptr};
};
TORCH_MODULE(ConvNorm);

/// Shorthand for ConvNormImpl::Options.
ConvNormImpl::Options conv_options(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                   std::int64_t padding, NormKind norm, bool bias = false, std::int64_t groups = 1);

}  // namespace prismer::experts::obj_detection
