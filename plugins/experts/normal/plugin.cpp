// The "normal" expert plugin: Prismer's surface-normal expert, NLL-AngMF (EfficientNet-B5-AP encoder, ScanNet
// weights `scannet.pt`), writing the labels experts/generate_normal.py writes: an RGB PNG at the image's size,
// channel = uint8(255 * (n + 1) / 2) of the unit normal's x, y, z.
//
// `weights: random` (the default, so that the plugin constructs and validates with no download) uses seeded random
// weights and says so in the log: its labels are meaningless. Real labels need `weights: zoo:expert_normal` or a
// path to scannet.pt.
#include "normal_checkpoint.h"
#include "normal_processing.h"
#include "nnet.h"

#include "common/file_setting.h"

#include <prismer/config.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using namespace prismer::normal;

class NormalExpert final : public prismer::Expert {
 public:
  explicit NormalExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")), device_(prismer::parse_device(cfg)) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a non-empty folder name");
    const std::string weights = cfg.get<std::string>("weights");
    const auto seed = cfg.get<std::int64_t>("seed");
    if (weights == "random") {
      random_init(model_, static_cast<std::uint64_t>(seed));
      prismer::log::warn("normal: weights: random - seeded random weights (seed {}), the labels are meaningless; "
                         "set weights: zoo:expert_normal (or a path to scannet.pt) for real ones", seed);
    } else {
      const std::string path =
          prismer::plugins::file_setting(cfg, "weights", "a path to scannet.pt or zoo:expert_normal, or 'random'");
      try {
        load_checkpoint(model_, path);
      } catch (const std::exception& e) {
        cfg["weights"].fail(e.what());
      }
      prismer::log::info("normal: loaded {}", path);
    }
    model_->eval();
    model_->to(device_);
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 3;
    s.kind = prismer::LabelKind::dense;
    s.stem = "normal";
    s.map_channels = 3;
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>&) override {
    std::vector<prismer::Label> out;
    if (images.empty()) return out;
    c10::InferenceMode guard;
    std::vector<torch::Tensor> inputs;
    inputs.reserve(images.size());
    for (const prismer::Image& image : images) inputs.push_back(preprocess(image));
    // One batch, as the original (its batches of 64 are independent per image: BatchNorm runs in eval mode).
    const torch::Tensor res1 = model_->forward(torch::stack(inputs).to(device_)).back();
    out.reserve(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      prismer::Label label;
      label.map = postprocess(res1[static_cast<std::int64_t>(i)], images[i].width, images[i].height);
      out.push_back(std::move(label));
    }
    return out;
  }

  torch::Tensor encode(const prismer::Label& label) const override { return prismer::dense_encode(label); }

 private:
  std::string label_name_;
  torch::Device device_;
  NNet model_;
};

}  // namespace

PRISMER_PLUGIN(NormalExpert, "normal", expert, "1.0.0",
               "Surface normals: NLL-AngMF (EfficientNet-B5-AP, ScanNet), Prismer's normal expert",
               "label_name: normal     # label folder, and the backbone input it feeds\n"
               "weights: random        # scannet.pt path or zoo:expert_normal; random = seeded random weights (tests)\n"
               "device: cpu            # cpu | cuda | cuda:N | auto\n"
               "seed: 0                # for weights: random\n")
