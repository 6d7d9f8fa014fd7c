// The "obj_detection" expert plugin: UniDet (Unified_learned_OCIM_RS200_6x+2x, 722 unified classes), labels exactly
// as Prismer's experts/generate_objdet.py writes them: a 1-channel PNG of instance ids (255 = background, overlaps
// ordered by the depth expert's labels) and a `{"<instance>": class}` JSON beside it.
//
// weights: the official .pth (a path or zoo:expert_obj_detection), loaded by name (every key must match); `random`
// builds the network with seeded random weights instead (conformance checks and tests only; logged loudly).
// Images are processed one at a time (the original batched 32 images padded together, so its boxes depended on
// the batch neighbours; one image at a time reproduces its single-image run).
#include "checkpoint.h"
#include "labels.h"
#include "unidet.h"

#include "common/file_setting.h"

#include <prismer/config.h>
#include <prismer/data/clip_features.h>
#include <prismer/device.h>
#include <prismer/expert.h>
#include <prismer/log.h>
#include <prismer/plugin.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <mutex>

namespace {

namespace od = prismer::experts::obj_detection;

class ObjDetectionExpert final : public prismer::Expert {
 public:
  explicit ObjDetectionExpert(const prismer::Config& cfg)
      : label_name_(cfg.get<std::string>("label_name")),
        depth_name_(cfg.get<std::string>("depth_label")),
        features_dir_(cfg.get<std::string>("features_dir")),
        device_(prismer::parse_device(cfg)) {
    if (label_name_.empty() || label_name_.find('/') != std::string::npos)
      cfg["label_name"].fail("must be a non-empty folder name");
    if (depth_name_.empty()) cfg["depth_label"].fail("must name the depth expert's labels (depth)");
    options_.score_threshold = cfg.get<double>("score_threshold");
    if (!(options_.score_threshold >= 0.0 && options_.score_threshold < 1.0))
      cfg["score_threshold"].fail("must lie in [0, 1)");
    const std::string weights = cfg.get<std::string>("weights");
    torch::manual_seed(static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed")));
    model_ = od::UniDet();
    if (weights == "random") {
      prismer::log::warn("obj_detection: weights: random - UniDet with seeded random weights (seed {}); its labels "
                         "are meaningless. Set weights: zoo:expert_obj_detection (or the file's path) for real "
                         "detections.",
                         cfg.get<std::int64_t>("seed"));
    } else {
      const std::string path =
          prismer::plugins::file_setting(cfg, "weights", "a path or zoo:expert_obj_detection, or 'random'");
      od::load_official_weights(model_, path);
      prismer::log::info("obj_detection: loaded {}", path);
    }
    model_->eval();
    model_->to(device_);
  }

  prismer::LabelSpec spec() const override {
    prismer::LabelSpec s;
    s.name = label_name_;
    s.channels = 64;
    s.kind = prismer::LabelKind::semantic;
    s.stem = "obj_detection";
    s.map_channels = 1;
    s.depends_on = {depth_name_};
    return s;
  }

  std::vector<prismer::Label> predict(const std::vector<prismer::Image>& images,
                                      const std::vector<prismer::ExpertContext>& context) override {
    std::vector<prismer::Label> out;
    torch::InferenceMode guard;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const prismer::Label* depth = nullptr;
      if (i < context.size()) {
        const auto it = context[i].previous.find(depth_name_);
        if (it != context[i].previous.end()) depth = it->second;
      }
      if (depth == nullptr)
        throw std::runtime_error("obj_detection: image " + std::to_string(i) + " has no '" + depth_name_ +
                                 "' label; the depth expert must run first");
      if (depth->map.width != images[i].width || depth->map.height != images[i].height)
        throw std::runtime_error("obj_detection: the depth label is " + std::to_string(depth->map.width) + "x" +
                                 std::to_string(depth->map.height) + ", its image " + std::to_string(images[i].width) +
                                 "x" + std::to_string(images[i].height));
      const torch::Tensor input = od::preprocess(images[i]).to(device_);
      const od::Detections det = model_->detect(input, nullptr, options_);
      const auto [mask, classes] = od::mask_labels(od::depth_input(depth->map), det.boxes, det.classes);
      out.push_back(od::make_label(mask, classes, images[i].width, images[i].height));
    }
    return out;
  }

  std::vector<std::string> label_files(const std::string& stem) const override {
    return {stem + ".png", stem + ".json"};
  }

  // The original's post_label_process in-paints each instance with its class's 64-d CLIP text feature
  // (detection_features.pt, background_features.pt for 255). Without features_dir a fixed seeded stand-in table is
  // used (shapes right, values meaningless; warned once).
  torch::Tensor encode(const prismer::Label& label) const override {
    const prismer::Image& m = label.map;
    if (m.empty() || m.channels != 1) throw std::runtime_error("obj_detection: encode needs a 1-channel label map");
    std::map<std::string, std::int64_t> classes;
    const auto json = label.sidecars.find(".json");
    if (json != label.sidecars.end()) {
      try {
        // the parsed document must outlive the loop: items() only refers to it
        const nlohmann::json doc = nlohmann::json::parse(json->second);
        for (const auto& [k, v] : doc.items()) classes[k] = v.get<std::int64_t>();
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("obj_detection: bad instance json: ") + e.what());
      }
    }
    const auto [table, background] = features();
    torch::Tensor lut = background.view({1, -1}).repeat({256, 1});
    for (const auto& [k, c] : classes) {
      const int id = std::stoi(k);
      // ids from 255 on cannot be told from the background in a uint8 map (the original's loader never reads them)
      if (id >= 255) continue;
      if (id < 0 || c < 0 || c >= table.size(0))
        throw std::runtime_error("obj_detection: instance " + k + " -> class " + std::to_string(c) + " out of range");
      lut[id] = table[c];
    }
    const torch::Tensor ids =
        torch::from_blob(const_cast<std::uint8_t*>(m.pixels.data()), {m.height * m.width}, torch::kUInt8).to(torch::kInt64);
    return lut.index_select(0, ids).t().reshape({-1, m.height, m.width}).contiguous();
  }

 private:
  std::pair<torch::Tensor, torch::Tensor> features() const {
    std::call_once(features_once_, [&] {
      if (!features_dir_.empty()) {
        const prismer::data::ClipFeatures f = prismer::data::load_clip_features(features_dir_);
        features_ = {f.detection.to(torch::kFloat32), f.background.reshape({-1}).to(torch::kFloat32)};
      } else {
        prismer::log::warn("obj_detection: features_dir is empty - encode() uses a seeded stand-in for the CLIP "
                           "class features (meaningless values); set features_dir for the real ones");
        const auto gen = at::detail::createCPUGenerator(722);
        features_ = {torch::randn({722, 64}, gen), torch::randn({64}, gen)};
      }
    });
    return features_;
  }

  std::string label_name_, depth_name_, features_dir_;
  torch::Device device_;
  od::DetectOptions options_;
  od::UniDet model_{nullptr};
  mutable std::once_flag features_once_;
  mutable std::pair<torch::Tensor, torch::Tensor> features_;
};

}  // namespace

PRISMER_PLUGIN(ObjDetectionExpert, "obj_detection", expert, "1.0.0",
               "UniDet (RS200 cascade, 722 unified classes) instance maps ordered by depth, as Prismer's "
               "generate_objdet.py writes them",
               "label_name: obj_detection   # label folder, and the backbone input it feeds\n"
               "depth_label: depth          # the depth expert whose labels order overlapping boxes\n"
               "weights: random             # Unified_learned_OCIM_RS200_6x+2x.pth: a path or zoo:expert_obj_detection;\n"
               "                            # random = seeded random weights, for checks only (meaningless labels)\n"
               "seed: 0                     # seed of the random weights\n"
               "score_threshold: 0.5        # the original's SCORE_THRESH_TEST\n"
               "features_dir: \"\"            # CLIP class features for encode() (detection_features.pt, ...)\n"
               "device: cpu                 # cpu | cuda | cuda:N | auto\n")
