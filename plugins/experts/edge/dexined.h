// DexiNed (xavysp/DexiNed as vendored in NVlabs/prismer experts/edge/model.py): the edge expert's network,
// with the official state_dict key names (block_1.conv1.weight, dblock_3.denselayer1.norm1.running_mean,
// up_block_4.features.5.weight, ...; 319 tensors, 35.2 M parameters).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace prismer::edge {

/// conv3x3 -> BN -> ReLU -> conv3x3 -> BN [-> ReLU]; children conv1, bn1, conv2, bn2.
class DoubleConvBlockImpl : public torch::nn::Module {
 public:
  DoubleConvBlockImpl(std::int64_t in, std::int64_t mid, std::int64_t out, std::int64_t stride, bool use_act);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};

 private:
  bool use_act_;
};
TORCH_MODULE(DoubleConvBlock);

/// A 1x1 convolution (stride s) and, unless disabled, BN; `bn` always exists (block_cat's is loaded, unused).
class SingleConvBlockImpl : public torch::nn::Module {
 public:
  SingleConvBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride, bool use_bn = true);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  bool use_bn_;
};
TORCH_MODULE(SingleConvBlock);

/// One dense layer: new = norm2(conv2(relu(norm1(conv1(relu(x1)))))) (conv1 pads 2, conv2 pads 0, so the size
/// is kept); returns 0.5 * (new + x2).
class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(std::int64_t in, std::int64_t out);
  torch::Tensor forward(const torch::Tensor& x1, const torch::Tensor& x2);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(DenseLayer);

/// `layers` dense layers (denselayer1..N), each reading the previous output and the block's second input.
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int layers, std::int64_t in, std::int64_t out);
  torch::Tensor forward(torch::Tensor x1, const torch::Tensor& x2);

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

/// `up_scale` steps of Conv1x1 (-> 16 channels, -> 1 at the last step), ReLU, ConvTranspose2d(2^s, stride 2):
/// a 1-channel map at 2^up_scale times the input size; children features.{3i} and features.{3i+2}.
class UpConvBlockImpl : public torch::nn::Module {
 public:
  UpConvBlockImpl(std::int64_t in, int up_scale);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential features{nullptr};
};
TORCH_MODULE(UpConvBlock);

/// The whole network. Input: BGR, mean-subtracted, x255 images [B, 3, H, W] (H, W multiples of 16).
/// Output: 7 logit maps [B, 1, H, W]: the six side outputs and the fused one (block_cat).
class DexiNedImpl : public torch::nn::Module {
 public:
  DexiNedImpl();
  /// When `taps` is given, intermediate features are stored in it by the reference's names (block_1, block_2,
  /// dblock_3..dblock_6 (the dense blocks' first outputs), side_1, pre_dense_3).
  std::vector<torch::Tensor> forward(const torch::Tensor& x, std::map<std::string, torch::Tensor>* taps = nullptr);

  DoubleConvBlock block_1{nullptr}, block_2{nullptr};
  DenseBlock dblock_3{nullptr}, dblock_4{nullptr}, dblock_5{nullptr}, dblock_6{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  SingleConvBlock side_1{nullptr}, side_2{nullptr}, side_3{nullptr}, side_4{nullptr}, side_5{nullptr};
  SingleConvBlock pre_dense_2{nullptr}, pre_dense_3{nullptr}, pre_dense_4{nullptr}, pre_dense_5{nullptr},
      pre_dense_6{nullptr};
  UpConvBlock up_block_1{nullptr}, up_block_2{nullptr}, up_block_3{nullptr}, up_block_4{nullptr}, up_block_5{nullptr},
      up_block_6{nullptr};
  SingleConvBlock block_cat{nullptr};
};
TORCH_MODULE(DexiNed);

}  // namespace prismer::edge
