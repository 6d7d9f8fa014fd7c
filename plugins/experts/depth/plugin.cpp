// The "depth" expert plugin: DPT-Hybrid (MiDaS) inverse depth, labels exactly as Prismer's
// experts/generate_depth.py writes them (a 1-channel PNG at the image's size, bright = near).
//
// weights: the official dpt_hybrid-midas-501f0c75.pt (a path or zoo:expert_depth), loaded strictly; `random`
// builds the network with seeded random weights instead (conformance checks and tests only; logged loudly).
#include "checkpoint.h"
#include "dpt.h"
#include "transforms.h"

#include "common/file_setting.h"

#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <torch/torch.h>

namespace {

namespace depth = prismer::experts::depth;

class DepthExpert final : public prismer::Expert {
 public:
  explicit DepthExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")),
        resolution_(cfg.get<int>("resolution")),
        device_(prismer::parse_device(cfg)) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a non-empty folder name");
    if (resolution_ < 32 || resolution_ % 32 != 0) cfg["resolution"].fail("must be a positive multiple of 32");
    const std::string weights = cfg.get<std::string>("weights");
    torch::manual_seed(static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed")));
    model_ = depth::DptDepthModel();
    if (weights == "random") {
      prismer::log::warn("depth: weights: random - DPT-Hybrid with seeded random weights (seed {}); its labels are "
                         "meaningless. Set weights: zoo:expert_depth (or the file's path) for real depth labels.",
                         cfg.get<std::int64_t>("seed"));
    } else {
      const std::string path =
          prismer::plugins::file_setting(cfg, "weights", "a path or zoo:expert_depth, or 'random'");
      depth::load_official_weights(model_, path);
      prismer::log::info("depth: loaded {}", path);
    }
    model_->eval();
    model_->to(device_);
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 1;
    s.kind = prismer::LabelKind::dense;
    s.stem = "depth";
    s.map_channels = 1;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    const torch::Tensor inverse = depth::predict_inverse_depth(*model_, images, device_, resolution_);
    std::vector<prismer::Label> out(images.size());
    for (std::size_t i = 0; i < images.size(); ++i)
      out[i].map = depth::depth_label(inverse[static_cast<std::int64_t>(i)], images[i].width, images[i].height);
    return out;
  }

  torch::Tensor encode(const prismer::Label& label) const override { return prismer::dense_encode(label); }

 private:
  std::string label_name_;
  int resolution_;
  torch::Device device_;
  depth::DptDepthModel model_{nullptr};
};

}  // namespace

PRISMER_PLUGIN(DepthExpert, "depth", expert, "1.0.0",
               "DPT-Hybrid (MiDaS) inverse depth, labels as Prismer's generate_depth.py writes them",
               "label_name: depth      # label folder, and the backbone input it feeds\n"
               "weights: random        # dpt_hybrid-midas-501f0c75.pt: a path or zoo:expert_depth (strict load);\n"
               "                       # random = seeded random weights, for checks only (meaningless labels)\n"
               "seed: 0                # seed of the random weights\n"
               "resolution: 480        # network input size (the original: 480; a multiple of 32)\n"
               "device: cpu            # cpu | cuda | cuda:N | auto\n")
