// The "seg_coco" expert plugin (and, built with PRISMER_SEG_ADE, "seg_ade"): Mask2Former Swin-L semantic
// segmentation, writing the labels experts/generate_segmentation.py writes: a 1-channel PNG at the image's size
// holding the argmax class id (COCO panoptic 0..132, or ADE20k 0..149).
//
// Deviation from the original, on purpose: images are segmented one at a time. The original batched 4 images of
// different sizes and detectron2 zero-padded them to a common size, so its labels depended on the neighbours in
// the batch; one at a time gives each image the labels it gets alone (the fixtures' pipeline_single case).
// Kept on purpose (`bgr: true`, the default): the original fed the network B,G,R channels normalised with the
// config's RGB means and stds.
//
// weights: model_final_f07440.pkl (seg_coco) / model_final_e0c58e.pkl (seg_ade), a path or zoo:expert_seg_*;
// `random` builds the network with seeded random weights (checks only; logged loudly).
// features: the CLIP text features encode() in-paints class ids with (coco_features.pt / ade_features.pt, a path
// or zoo:NAME); `random` = seeded random features (checks only).
#include "seg/checkpoint.h"
#include "seg/mask2former.h"
#include "seg/processing.h"

#include "common/file_setting.h"

#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>
#include <prismer/weights.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

namespace seg = prismer::experts::seg;

#ifdef PRISMER_SEG_ADE
constexpr const char* kName = "seg_ade";
constexpr const char* kWeightsZoo = "zoo:expert_seg_ade";
constexpr const char* kFeaturesZoo = "zoo:ade_features";
#else
constexpr const char* kName = "seg_coco";
constexpr const char* kWeightsZoo = "zoo:expert_seg_coco";
constexpr const char* kFeaturesZoo = "zoo:coco_features";
#endif

std::string resolve_file(const prismer::Config& cfg, const std::string& key) {
  return prismer::plugins::file_setting(cfg, key, "a path or zoo:NAME, or 'random'");
}

class SegExpert final : public prismer::Expert {
 public:
  explicit SegExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")),
        bgr_(cfg.get<bool>("bgr")),
        device_(prismer::parse_device(cfg)) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a non-empty folder name");
    seg::Mask2FormerConfig mc = seg::Mask2FormerConfig::coco();
    mc.num_classes = cfg.get<std::int64_t>("num_classes");
    if (mc.num_classes < 1 || mc.num_classes > 255) cfg["num_classes"].fail("must be in 1..255 (8-bit labels)");
    const auto seed = cfg.get<std::int64_t>("seed");
    torch::manual_seed(static_cast<std::uint64_t>(seed));
    model_ = seg::Mask2Former(mc);
    const std::string weights = cfg.get<std::string>("weights");
    if (weights == "random") {
      prismer::log::warn("{}: weights: random - Mask2Former Swin-L with seeded random weights (seed {}); its labels "
                         "are meaningless. Set weights: {} (or the file's path) for real labels.",
                         kName, seed, kWeightsZoo);
    } else {
      const std::string path = resolve_file(cfg, "weights");
      try {
        seg::load_official_weights(*model_, path);
      } catch (const std::exception& e) {
        cfg["weights"].fail(e.what());
      }
      prismer::log::info("{}: loaded {}", kName, path);
    }
    model_->eval();
    model_->to(device_);

    const std::string features = cfg.get<std::string>("features");
    if (features == "random") {
      torch::manual_seed(static_cast<std::uint64_t>(seed));
      features_ = torch::randn({mc.num_classes, 64});
      prismer::log::warn("{}: features: random - encode() in-paints class ids with seeded random vectors; set "
                         "features: {} for the CLIP text features the original uses.", kName, kFeaturesZoo);
    } else {
      const std::string path = resolve_file(cfg, "features");
      const prismer::TensorMap file = prismer::load_weights(path);
      const torch::Tensor* f = prismer::find_tensor(file, "features");
      if (f == nullptr || f->dim() != 2 || f->size(0) != mc.num_classes)
        cfg["features"].fail(path + ": expected a 'features' tensor [" + std::to_string(mc.num_classes) + ", D]");
      features_ = f->to(torch::kFloat32);
    }
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = static_cast<int>(features_.size(1));
    s.kind = prismer::LabelKind::semantic;
    s.stem = "seg";
    s.map_channels = 1;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    std::vector<prismer::Label> out(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) out[i].map = seg::predict_label(*model_, images[i], device_, bgr_);
    return out;
  }

  /// post_label_process for segmentation: each pixel's class id replaced by that class's feature vector.
  torch::Tensor encode(const prismer::Label& label) const override {
    const prismer::Image& m = label.map;
    if (m.channels != 1) throw std::invalid_argument(std::string(kName) + ": expected a 1-channel label map");
    const torch::Tensor ids =
        torch::from_blob(const_cast<std::uint8_t*>(m.pixels.data()), {m.height, m.width}, torch::kUInt8).to(torch::kLong);
    if (ids.numel() > 0 && ids.max().item<std::int64_t>() >= features_.size(0))
      throw std::invalid_argument(std::string(kName) + ": label holds class id " +
                                  std::to_string(ids.max().item<std::int64_t>()) + ", beyond the " +
                                  std::to_string(features_.size(0)) + " classes");
    return features_.index_select(0, ids.flatten()).view({m.height, m.width, -1}).permute({2, 0, 1}).contiguous();
  }

 private:
  std::string label_name_;
  bool bgr_;
  torch::Device device_;
  seg::Mask2Former model_{nullptr};
  torch::Tensor features_;
};

}  // namespace

#ifdef PRISMER_SEG_ADE
PRISMER_PLUGIN(SegExpert, "seg_ade", expert, "1.0.0",
               "Mask2Former Swin-L (ADE20k panoptic) semantic labels, as Prismer's seg_ade expert",
               "label_name: seg_ade    # label folder, and the backbone input it feeds\n"
               "weights: random        # model_final_e0c58e.pkl: a path or zoo:expert_seg_ade;\n"
               "                       # random = seeded random weights, for checks only (meaningless labels)\n"
               "features: random       # ade_features.pt for encode(): a path or zoo:ade_features; random for checks\n"
               "num_classes: 150       # SEM_SEG_HEAD.NUM_CLASSES of the weights\n"
               "bgr: true              # feed B,G,R as the original did (its config says RGB); false = RGB\n"
               "seed: 0                # seed of the random weights / features\n"
               "device: cpu            # cpu | cuda | cuda:N | auto\n")
#else
PRISMER_PLUGIN(SegExpert, "seg_coco", expert, "1.0.0",
               "Mask2Former Swin-L (COCO panoptic) semantic labels, as Prismer's generate_segmentation.py writes them",
               "label_name: seg_coco   # label folder, and the backbone input it feeds\n"
               "weights: random        # model_final_f07440.pkl: a path or zoo:expert_seg_coco;\n"
               "                       # random = seeded random weights, for checks only (meaningless labels)\n"
               "features: random       # coco_features.pt for encode(): a path or zoo:coco_features; random for checks\n"
               "num_classes: 133       # SEM_SEG_HEAD.NUM_CLASSES of the weights\n"
               "bgr: true              # feed B,G,R as the original did (its config says RGB); false = RGB\n"
               "seed: 0                # seed of the random weights / features\n"
               "device: cpu            # cpu | cuda | cuda:N | auto\n")
#endif
