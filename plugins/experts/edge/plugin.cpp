// The "edge" expert plugin: DexiNed edges as Prismer's experts/generate_edge.py writes them (a 1-channel PNG at
// the image's size, edges dark).
//
// `weights: random` (the default, so that the plugin constructs and validates with no download) uses seeded random
// weights and says so in the log: its labels are meaningless. Real labels need `weights: zoo:expert_edge` or a path
// to 10_model.pth.
#include "edge_model.h"

#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include "common/file_setting.h"

#include <algorithm>

namespace {

class EdgeExpert final : public prismer::Expert {
 public:
  explicit EdgeExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")),
        device_(prismer::parse_device(cfg)),
        max_batch_(cfg.get<int>("max_batch")) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a folder name");
    if (max_batch_ <= 0) cfg["max_batch"].fail("must be positive");
    if (cfg.get<std::string>("weights") == "random") {
      const auto seed = cfg.get<std::int64_t>("seed");
      prismer::edge::init_random(net_, static_cast<std::uint64_t>(seed));
      prismer::log::warn("edge: weights: random - DexiNed with seeded random weights (seed {}); its labels are "
                         "meaningless. Set weights: zoo:expert_edge (or the file's path) for real edge labels.",
                         seed);
    } else {
      const std::string path =
          prismer::plugins::file_setting(cfg, "weights", "a path to 10_model.pth or zoo:expert_edge, or 'random'");
      try {
        prismer::edge::load_dexined(net_, path);
      } catch (const std::exception& e) {
        cfg["weights"].fail(e.what());
      }
      prismer::log::info("edge: DexiNed weights from {}", path);
    }
    net_->eval();
    net_->to(device_);
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 1;
    s.kind = prismer::LabelKind::dense;
    s.stem = "edge";
    s.map_channels = 1;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    torch::InferenceMode inference;
    std::vector<prismer::Label> out;
    out.reserve(images.size());
    for (std::size_t begin = 0; begin < images.size(); begin += static_cast<std::size_t>(max_batch_)) {
      const std::size_t end = std::min(images.size(), begin + static_cast<std::size_t>(max_batch_));
      const std::vector<prismer::Image> chunk(images.begin() + static_cast<std::ptrdiff_t>(begin),
                                              images.begin() + static_cast<std::ptrdiff_t>(end));
      for (prismer::Image& map : prismer::edge::predict_labels(net_, chunk, device_)) {
        prismer::Label label;
        label.map = std::move(map);
        out.push_back(std::move(label));
      }
    }
    return out;
  }

  torch::Tensor encode(const prismer::Label& label) const override { return prismer::dense_encode(label); }

 private:
  std::string label_name_;
  torch::Device device_;
  int max_batch_;
  prismer::edge::DexiNed net_;
};

}  // namespace

PRISMER_PLUGIN(EdgeExpert, "edge", expert, "1.0.0",
               "DexiNed edge maps (Prismer's edge expert, official 10_model.pth), edges dark",
               "label_name: edge          # label folder, and the backbone input it feeds\n"
               "weights: random           # 10_model.pth: a path or zoo:expert_edge (strict load);\n"
               "                          # random = seeded random weights, for checks only (meaningless labels)\n"
               "seed: 0                   # for weights: random\n"
               "device: cpu               # cpu | cuda | cuda:N | auto\n"
               "max_batch: 8              # images per forward pass (each is resized to 480x480)\n")
