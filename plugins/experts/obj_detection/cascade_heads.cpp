#include "cascade_heads.h"

namespace prismer::experts::obj_detection {

BoxHeadImpl::BoxHeadImpl() {
  for (int i = 1; i <= 4; ++i)
    convs_.push_back(register_module("conv" + std::to_string(i),
                                     ConvNorm(conv_options(256, 256, 3, 1, 1, NormKind::batch))));
  fc1_ = register_module("fc1", torch::nn::Linear(256 * 7 * 7, 1024));
}

torch::Tensor BoxHeadImpl::forward(const torch::Tensor& pooled) {
  torch::Tensor x = pooled;
  for (ConvNorm& c : convs_) x = torch::relu(c->forward(x));
  return torch::relu(fc1_->forward(x.flatten(1)));
}

BoxPredictorImpl::BoxPredictorImpl(std::int64_t classes) {
  cls_score_ = register_module("cls_score", torch::nn::Linear(1024, classes + 1));
  bbox_pred_ = register_module("bbox_pred", torch::nn::Linear(1024, 4));
}

std::pair<torch::Tensor, torch::Tensor> BoxPredictorImpl::forward(const torch::Tensor& x) {
  return {cls_score_->forward(x), bbox_pred_->forward(x)};
}

}  // namespace prismer::experts::obj_detection
