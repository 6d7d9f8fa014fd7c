// DexiNed forward, following experts/edge/model.py statement by statement.
#include "dexined.h"

namespace prismer::edge {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(true));
}

}  // namespace

DoubleConvBlockImpl::DoubleConvBlockImpl(std::int64_t in, std::int64_t mid, std::int64_t out, std::int64_t stride,
                                         bool use_act)
    : use_act_(use_act) {
  conv1 = register_module("conv1", conv(in, mid, 3, stride, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(mid));
  conv2 = register_module("conv2", conv(mid, out, 3, 1, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
}

torch::Tensor DoubleConvBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return use_act_ ? torch::relu(y) : y;
}

SingleConvBlockImpl::SingleConvBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride, bool use_bn)
    : use_bn_(use_bn) {
  conv = register_module("conv", prismer::edge::conv(in, out, 1, stride, 0));
  bn = register_module("bn", nn::BatchNorm2d(out));
}

torch::Tensor SingleConvBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv(x);
  return use_bn_ ? bn(y) : y;
}

DenseLayerImpl::DenseLayerImpl(std::int64_t in, std::int64_t out) {
  conv1 = register_module("conv1", conv(in, out, 3, 1, 2));
  norm1 = register_module("norm1", nn::BatchNorm2d(out));
  conv2 = register_module("conv2", conv(out, out, 3, 1, 0));
  norm2 = register_module("norm2", nn::BatchNorm2d(out));
}

torch::Tensor DenseLayerImpl::forward(const torch::Tensor& x1, const torch::Tensor& x2) {
  const torch::Tensor fresh = norm2(conv2(torch::relu(norm1(conv1(torch::relu(x1))))));
  return 0.5 * (fresh + x2);
}

DenseBlockImpl::DenseBlockImpl(int layers, std::int64_t in, std::int64_t out) {
  for (int i = 0; i < layers; ++i) {
    layers_.push_back(register_module("denselayer" + std::to_string(i + 1), DenseLayer(in, out)));
    in = out;
  }
}

torch::Tensor DenseBlockImpl::forward(torch::Tensor x1, const torch::Tensor& x2) {
  for (auto& layer : layers_) x1 = layer->forward(x1, x2);
  return x1;
}

UpConvBlockImpl::UpConvBlockImpl(std::int64_t in, int up_scale) {
  static constexpr std::int64_t kPads[] = {0, 0, 1, 3, 7};  // all_pads, indexed by up_scale
  if (up_scale < 1 || up_scale > 4) throw std::invalid_argument("UpConvBlock: up_scale must be 1..4");
  const std::int64_t kernel = std::int64_t{1} << up_scale;
  features = register_module("features", nn::Sequential());
  for (int i = 0; i < up_scale; ++i) {
    const std::int64_t out = i == up_scale - 1 ? 1 : 16;
    features->push_back(conv(in, out, 1, 1, 0));
    features->push_back(nn::ReLU());
    features->push_back(nn::ConvTranspose2d(
        nn::ConvTranspose2dOptions(out, out, kernel).stride(2).padding(kPads[up_scale]).bias(true)));
    in = out;
  }
}

torch::Tensor UpConvBlockImpl::forward(const torch::Tensor& x) { return features->forward(x); }

DexiNedImpl::DexiNedImpl() {
  // Registration order = the reference's state_dict order.
  block_1 = register_module("block_1", DoubleConvBlock(3, 32, 64, 2, true));
  block_2 = register_module("block_2", DoubleConvBlock(64, 128, 128, 1, false));
  dblock_3 = register_module("dblock_3", DenseBlock(2, 128, 256));
  dblock_4 = register_module("dblock_4", DenseBlock(3, 256, 512));
  dblock_5 = register_module("dblock_5", DenseBlock(3, 512, 512));
  dblock_6 = register_module("dblock_6", DenseBlock(3, 512, 256));
  maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  side_1 = register_module("side_1", SingleConvBlock(64, 128, 2));
  side_2 = register_module("side_2", SingleConvBlock(128, 256, 2));
  side_3 = register_module("side_3", SingleConvBlock(256, 512, 2));
  side_4 = register_module("side_4", SingleConvBlock(512, 512, 1));
  side_5 = register_module("side_5", SingleConvBlock(512, 256, 1));  // unused by forward, present in the weights
  pre_dense_2 = register_module("pre_dense_2", SingleConvBlock(128, 256, 2));
  pre_dense_3 = register_module("pre_dense_3", SingleConvBlock(128, 256, 1));
  pre_dense_4 = register_module("pre_dense_4", SingleConvBlock(256, 512, 1));
  pre_dense_5 = register_module("pre_dense_5", SingleConvBlock(512, 512, 1));
  pre_dense_6 = register_module("pre_dense_6", SingleConvBlock(512, 256, 1));
  up_block_1 = register_module("up_block_1", UpConvBlock(64, 1));
  up_block_2 = register_module("up_block_2", UpConvBlock(128, 1));
  up_block_3 = register_module("up_block_3", UpConvBlock(256, 2));
  up_block_4 = register_module("up_block_4", UpConvBlock(512, 3));
  up_block_5 = register_module("up_block_5", UpConvBlock(512, 4));
  up_block_6 = register_module("up_block_6", UpConvBlock(256, 4));
  block_cat = register_module("block_cat", SingleConvBlock(6, 1, 1, false));  // HED fusion, BN unused
}

std::vector<torch::Tensor> DexiNedImpl::forward(const torch::Tensor& x, std::map<std::string, torch::Tensor>* taps) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "DexiNed expects [B, 3, H, W], got ", x.sizes());
  auto tap = [&](const char* name, const torch::Tensor& t) {
    if (taps != nullptr) (*taps)[name] = t;
  };
  const torch::Tensor b1 = block_1(x);
  const torch::Tensor b1_side = side_1(b1);
  tap("block_1", b1);
  tap("side_1", b1_side);

  const torch::Tensor b2 = block_2(b1);
  const torch::Tensor b2_down = maxpool(b2);
  const torch::Tensor b2_add = b2_down + b1_side;
  const torch::Tensor b2_side = side_2(b2_add);
  tap("block_2", b2);

  const torch::Tensor b3_pre = pre_dense_3(b2_down);
  const torch::Tensor b3 = dblock_3(b2_add, b3_pre);
  const torch::Tensor b3_down = maxpool(b3);
  const torch::Tensor b3_add = b3_down + b2_side;
  const torch::Tensor b3_side = side_3(b3_add);
  tap("pre_dense_3", b3_pre);
  tap("dblock_3", b3);

  const torch::Tensor b2_half = pre_dense_2(b2_down);
  const torch::Tensor b4_pre = pre_dense_4(b3_down + b2_half);
  const torch::Tensor b4 = dblock_4(b3_add, b4_pre);
  const torch::Tensor b4_down = maxpool(b4);
  const torch::Tensor b4_add = b4_down + b3_side;
  const torch::Tensor b4_side = side_4(b4_add);
  tap("dblock_4", b4);

  const torch::Tensor b5_pre = pre_dense_5(b4_down);
  const torch::Tensor b5 = dblock_5(b4_add, b5_pre);
  const torch::Tensor b5_add = b5 + b4_side;
  tap("dblock_5", b5);

  const torch::Tensor b6_pre = pre_dense_6(b5);
  const torch::Tensor b6 = dblock_6(b5_add, b6_pre);
  tap("dblock_6", b6);

  std::vector<torch::Tensor> out = {up_block_1(b1), up_block_2(b2), up_block_3(b3),
                                    up_block_4(b4), up_block_5(b5), up_block_6(b6)};
  out.push_back(block_cat(torch::cat(out, 1)));
  return out;
}

}  // namespace prismer::edge
