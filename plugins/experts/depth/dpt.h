// DPT-Hybrid (MiDaS v3, `DPTDepthModel(backbone="vitb_rn50_384", non_negative=True, features=256,
// readout="project")`, isl-org/DPT as vendored in NVlabs/prismer experts/depth): the hybrid ViT encoder, the
// reassemble stage (ResNet stages for hooks 1-2, project-readout tokens for hooks 3-4), four fusion blocks and
// the inverse-depth head. Parameter names are the official state_dict's (`pretrained.model.*`,
// `pretrained.act_postprocess{3,4}.*`, `scratch.*`).
#pragma once

#include "vit_hybrid.h"

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <optional>

namespace prismer::experts::depth {

/// ResidualConvUnit_custom (no BN): x + conv2(relu(conv1(relu(x)))), both 3x3 with bias; ReLU not in place.
class ResidualConvUnitImpl : public torch::nn::Module {
 public:
  explicit ResidualConvUnitImpl(std::int64_t features);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(ResidualConvUnit);

/// FeatureFusionBlock_custom: out = x0 (+ resConfUnit1(x1)); resConfUnit2; x2 bilinear (align_corners=True);
/// `out_conv` 1x1. The first fusion block has no x1, so its resConfUnit1 is unused (but in the file).
class FeatureFusionBlockImpl : public torch::nn::Module {
 public:
  explicit FeatureFusionBlockImpl(std::int64_t features);
  torch::Tensor forward(const torch::Tensor& x0, const std::optional<torch::Tensor>& x1 = std::nullopt);
  torch::nn::Conv2d out_conv{nullptr};
  ResidualConvUnit resConfUnit1{nullptr}, resConfUnit2{nullptr};
};
TORCH_MODULE(FeatureFusionBlock);

/// ProjectReadout: tokens [B, 1+N, C] -> GELU(`project.0`(cat(tokens[:, 1:], cls))) [B, N, C].
class ProjectReadoutImpl : public torch::nn::Module {
 public:
  explicit ProjectReadoutImpl(std::int64_t width);
  torch::Tensor forward(const torch::Tensor& tokens);
  std::shared_ptr<torch::nn::Module> project;
  torch::nn::Linear linear{nullptr};  ///< project.0
};
TORCH_MODULE(ProjectReadout);

/// Every tensor the parity fixtures name, from one forward.
struct DptOutputs {
  torch::Tensor hook1, hook2;          ///< ResNet stages 0 and 1 ("1", "2" in pretrained.activations)
  torch::Tensor hook3, hook4;          ///< tokens after ViT blocks 8 and 11, cls first ("3", "4")
  std::array<torch::Tensor, 4> layer_rn;   ///< scratch.layer{1..4}_rn outputs
  std::array<torch::Tensor, 4> refinenet;  ///< scratch.refinenet{1..4} outputs (path_1..path_4)
  torch::Tensor output;                ///< inverse depth [B, H, W]
};

/// DPTDepthModel for the vitb_rn50_384 backbone. Input: [B, 3, H, W] normalised to [-1, 1], H and W multiples of 32.
class DptDepthModelImpl : public torch::nn::Module {
 public:
  explicit DptDepthModelImpl(const VitHybridConfig& vit = {}, std::int64_t features = 256);
  /// Inverse depth [B, H, W] (non-negative).
  torch::Tensor forward(const torch::Tensor& x);
  /// The forward with every named intermediate kept.
  DptOutputs forward_all(const torch::Tensor& x);

  std::shared_ptr<torch::nn::Module> pretrained, scratch;
  VitHybrid model{nullptr};  ///< pretrained.model
  ProjectReadout readout3{nullptr}, readout4{nullptr};  ///< pretrained.act_postprocess{3,4}.0
  torch::nn::Conv2d post3_conv{nullptr};                ///< pretrained.act_postprocess3.3 (1x1)
  torch::nn::Conv2d post4_conv{nullptr}, post4_down{nullptr};  ///< act_postprocess4.3 (1x1), .4 (3x3 stride 2)
  std::array<torch::nn::Conv2d, 4> layer_rn{torch::nn::Conv2d{nullptr}, torch::nn::Conv2d{nullptr},
                                            torch::nn::Conv2d{nullptr}, torch::nn::Conv2d{nullptr}};
  std::array<FeatureFusionBlock, 4> refinenet{FeatureFusionBlock{nullptr}, FeatureFusionBlock{nullptr},
                                              FeatureFusionBlock{nullptr}, FeatureFusionBlock{nullptr}};
  std::shared_ptr<torch::nn::Module> output_conv;
  torch::nn::Conv2d head0{nullptr}, head2{nullptr}, head4{nullptr};  ///< output_conv.{0,2,4}

 private:
  DptOutputs run(const torch::Tensor& x, bool keep);
};
TORCH_MODULE(DptDepthModel);

}  // namespace prismer::experts::depth
