// Conformance checks per plugin kind, in the spirit of ggml's test-backend-ops: the same suite for
// every plugin of a kind, each check reported with pass/fail and a reason.
#include <prismer/backbone.h>
#include <prismer/core/conformance.h>
#include <prismer/dataset.h>
#include <prismer/expert.h>
#include <prismer/task.h>

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <unistd.h>

namespace prismer {

namespace {

namespace fs = std::filesystem;

class Checks {
 public:
  std::vector<CheckResult> results;

  /// Runs one check; an exception or a false return is a failure. Returns whether it passed.
  bool run(const std::string& name, const std::function<std::string()>& body) {
    CheckResult r{name, false, ""};
    try {
      r.detail = body();
      r.passed = true;
    } catch (const std::exception& e) {
      r.detail = e.what();
    }
    results.push_back(r);
    return r.passed;
  }
};

[[noreturn]] void failed(const std::string& why) { throw std::runtime_error(why); }

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream ss;
  ss << t.sizes();
  return ss.str();
}

Image synthetic_image(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  Image img(width, height, 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      img.at(y, x, 0) = static_cast<std::uint8_t>(255 * x / std::max(1, width - 1));
      img.at(y, x, 1) = static_cast<std::uint8_t>(255 * y / std::max(1, height - 1));
      img.at(y, x, 2) = 96;
    }
  std::uniform_int_distribution<int> colour(0, 255);
  for (int shape = 0; shape < 4; ++shape) {
    const int cx = std::uniform_int_distribution<int>(0, width - 1)(rng);
    const int cy = std::uniform_int_distribution<int>(0, height - 1)(rng);
    const int r = std::uniform_int_distribution<int>(std::max(2, width / 10), std::max(3, width / 4))(rng);
    const std::uint8_t c[3] = {static_cast<std::uint8_t>(colour(rng)), static_cast<std::uint8_t>(colour(rng)),
                               static_cast<std::uint8_t>(colour(rng))};
    const bool square = shape % 2 == 0;
    for (int y = std::max(0, cy - r); y < std::min(height, cy + r); ++y)
      for (int x = std::max(0, cx - r); x < std::min(width, cx + r); ++x)
        if (square || (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
          for (int k = 0; k < 3; ++k) img.at(y, x, k) = c[k];
  }
  return img;
}

/// The data lists of the original Prismer layout, next to the synthetic images, so the list datasets (coco,
/// nocaps, vqav2, vg, web, pretrain) can be validated on the same `root`: one or two entries per list.
void write_synthetic_data_lists(const std::string& dir) {
  const std::vector<std::pair<std::string, int>> images = {
      {"vqav2/train2014/COCO_train2014_000000000001.jpg", 1}, {"vqav2/val2014/COCO_val2014_000000000002.jpg", 2},
      {"nocaps/val/0000000000000003.jpg", 3}, {"vg/image/4.jpg", 4},
      {"cc12m/00000/000000000.jpg", 5}, {"cc3m_sgu/00000/000000000.jpg", 6}};
  for (const auto& [rel, seed] : images)
    write_image((fs::path(dir) / rel).string(), synthetic_image(40 + 8 * seed, 48, 100u + static_cast<unsigned>(seed)));
  const std::vector<std::pair<std::string, std::string>> files = {
      {"cc12m/00000/000000000.txt", "Coloured shapes on a grey ground\n"},
      {"cc3m_sgu/00000/000000000.txt", "a square and a circle\n"},
      {"coco_karpathy_train.json", R"([{"image": "train2014/COCO_train2014_000000000001.jpg", "caption": "Shapes."},
 {"image": "val2014/COCO_val2014_000000000002.jpg", "caption": "More shapes."}])"},
      {"coco_karpathy_test.json", R"([{"image": "val2014/COCO_val2014_000000000002.jpg", "caption": ["Shapes."]},
 {"image": "train2014/COCO_train2014_000000000001.jpg", "caption": ["A circle."]}])"},
      {"nocaps_val.json", R"([{"image": "val/0000000000000003.jpg", "img_id": 0}])"},
      {"vqav2_train_val.json", R"([{"dataset": "vqa", "image": "train2014/COCO_train2014_000000000001.jpg",
 "question": "What is shown?", "answer": ["shapes"], "weight": [1.0], "question_id": 10}])"},
      {"vg_qa.json", R"([{"dataset": "vg", "image": "image/4.jpg", "question": "How many?", "answer": ["2"]}])"},
      {"vqav2_test.json", R"([{"dataset": "vqa", "image": "val2014/COCO_val2014_000000000002.jpg",
 "question": "What is shown?", "question_id": 20}, {"dataset": "vg", "image": "image/4.jpg",
 "question": "How many?", "question_id": 21}])"},
      {"answer_list.json", R"(["shapes", "2"])"},
      {"vg_caption.json", R"([{"image": "visual-genome/image/4.jpg", "caption": "two shapes"}])"}};
  for (const auto& [rel, text] : files) write_file_atomic((fs::path(dir) / rel).string(), text);
}

Config plugin_config(const PluginRecord& plugin, const ValidateOptions& options, const std::string& scratch) {
  Config cfg = Config::parse_string("{}", "validate settings for '" + plugin.name + "'");
  const Config defaults = PluginRegistry::defaults(plugin);
  const bool root_given = std::any_of(options.overrides.begin(), options.overrides.end(),
                                      [](const auto& kv) { return kv.first == "root"; });
  if (plugin.kind == "dataset" && defaults.has("root") && !root_given) {
    const std::string dir = (fs::path(scratch) / "dataset_images").string();
    write_synthetic_images(dir, 5, 7);
    write_synthetic_data_lists(dir);
    cfg.set("root", "\"" + dir + "\"");
  }
  for (const auto& [k, v] : options.overrides) cfg.set(k, v);
  return cfg;
}

void check_metadata(Checks& checks, const PluginRecord& p) {
  checks.run("metadata", [&] {
    if (p.version.empty()) failed("version is empty");
    if (p.summary.empty()) failed("summary is empty");
    if (p.summary.find('\n') != std::string::npos) failed("summary must be one line");
    const Config d = PluginRegistry::defaults(p);
    if (!d.is_map()) failed("default config is not a YAML map");
    return "name '" + p.name + "', kind " + p.kind + ", version " + p.version + ", " + std::to_string(d.size()) +
           " config keys";
  });
}

void validate_expert(Checks& checks, const PluginRegistry& registry, const PluginRecord& p, const Config& cfg,
                     const std::string& scratch) {
  std::unique_ptr<Expert> expert;
  if (!checks.run("construct from defaults", [&] {
        expert = registry.create_as<Expert>(p, cfg);
        return std::string("ok");
      }))
    return;
  LabelSpec spec;
  if (!checks.run("label spec", [&] {
        spec = expert->spec();
        if (spec.name.empty() || spec.name.find('/') != std::string::npos) failed("bad label name '" + spec.name + "'");
        if (spec.channels <= 0) failed("channels must be positive, got " + std::to_string(spec.channels));
        if (spec.map_channels != 1 && spec.map_channels != 3)
          failed("stored maps have 1 or 3 channels, got " + std::to_string(spec.map_channels));
        return spec.name + ": " + std::to_string(spec.channels) + " channels, " +
               (spec.kind == LabelKind::dense ? "dense" : "semantic");
      }))
    return;

  const std::vector<Image> images = {synthetic_image(64, 48, 1), synthetic_image(40, 56, 2)};
  std::vector<Sample> samples(images.size());
  std::vector<std::map<std::string, Label>> deps(images.size());
  std::vector<std::unique_ptr<Expert>> dep_experts;
  if (!spec.depends_on.empty() && !checks.run("dependencies", [&] {
        for (const std::string& dep : spec.depends_on) {
          const PluginRecord* provider = nullptr;
          for (const PluginRecord* r : registry.list("expert")) {
            std::unique_ptr<Expert> e = registry.create_as<Expert>(*r, Config());
            if (e->spec().name == dep) {
              provider = r;
              std::vector<ExpertContext> ctx(images.size());
              auto labels = e->predict(images, ctx);
              for (std::size_t i = 0; i < images.size(); ++i) deps[i][dep] = labels.at(i);
              dep_experts.push_back(std::move(e));
              break;
            }
          }
          if (provider == nullptr) failed("no loaded expert produces '" + dep + "' labels");
        }
        return std::string("provided");
      }))
    return;

  std::vector<Label> labels;
  if (!checks.run("predict on synthetic images", [&] {
        std::vector<ExpertContext> ctx(images.size());
        for (std::size_t i = 0; i < images.size(); ++i) {
          samples[i].id = "synthetic_" + std::to_string(i);
          ctx[i].sample = &samples[i];
          for (auto& [name, label] : deps[i]) ctx[i].previous[name] = &label;
        }
        const auto t0 = std::chrono::steady_clock::now();
        labels = expert->predict(images, ctx);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (labels.size() != images.size())
          failed(std::to_string(labels.size()) + " labels for " + std::to_string(images.size()) + " images");
        for (std::size_t i = 0; i < images.size(); ++i) {
          const Image& m = labels[i].map;
          if (m.width != images[i].width || m.height != images[i].height)
            failed("label " + std::to_string(i) + " is " + std::to_string(m.width) + "x" + std::to_string(m.height) +
                   ", its image " + std::to_string(images[i].width) + "x" + std::to_string(images[i].height));
          if (m.channels != spec.map_channels)
            failed("label map has " + std::to_string(m.channels) + " channels, spec says " + std::to_string(spec.map_channels));
          if (m.pixels.size() != static_cast<std::size_t>(m.width) * m.height * m.channels) failed("label buffer size is wrong");
        }
        return "2 labels in " + std::to_string(static_cast<int>(ms)) + " ms";
      }))
    return;

  checks.run("save and load round trip", [&] {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const std::string stem = (fs::path(scratch) / "labels" / spec.name / ("image_" + std::to_string(i))).string();
      expert->save(labels[i], stem);
      for (const std::string& f : expert->label_files(stem))
        if (!fs::exists(f)) failed("save() did not write " + f);
      const Label back = expert->load(stem);
      if (back.map.pixels != labels[i].map.pixels || back.map.width != labels[i].map.width)
        failed("label " + std::to_string(i) + " changed on a save/load round trip");
      if (back.sidecars != labels[i].sidecars) failed("side files changed on a save/load round trip");
    }
    return std::string("identical");
  });

  checks.run("encode", [&] {
    std::string shapes;
    for (const Label& l : labels) {
      const torch::Tensor t = expert->encode(l);
      if (t.dim() != 3 || t.size(0) != spec.channels)
        failed("encode gave " + shape_of(t) + ", expected [" + std::to_string(spec.channels) + ", H, W]");
      if (!t.is_floating_point()) failed("encode must give a floating-point tensor");
      if (!torch::isfinite(t).all().item<bool>()) failed("encode gave non-finite values");
      shapes += (shapes.empty() ? "" : " ") + shape_of(t);
    }
    return shapes;
  });
}

void validate_dataset(Checks& checks, const PluginRegistry& registry, const PluginRecord& p, const Config& cfg) {
  std::unique_ptr<Dataset> dataset;
  if (!checks.run("construct", [&] {
        dataset = registry.create_as<Dataset>(p, cfg);
        return std::string("ok");
      }))
    return;
  checks.run("label folder", [&] {
    const std::string sub = dataset->label_subdir();
    if (sub.empty() || sub.find("..") != std::string::npos) failed("bad label sub-folder '" + sub + "'");
    return sub;
  });
  const std::size_t n = std::min<std::size_t>(3, dataset->size());
  if (!checks.run("enumerate", [&] {
        if (dataset->size() == 0) failed("no samples");
        std::set<std::string> ids;
        for (std::size_t i = 0; i < n; ++i) {
          const Sample s = dataset->sample(i);
          if (s.id.empty()) failed("sample " + std::to_string(i) + " has no id");
          if (s.label_name.empty()) failed("sample " + std::to_string(i) + " has no label name");
          if (!ids.insert(s.id).second) failed("duplicate id " + s.id);
        }
        return std::to_string(dataset->size()) + " samples";
      }))
    return;
  checks.run("decode first samples", [&] {
    std::string sizes;
    for (std::size_t i = 0; i < n; ++i) {
      const Image img = dataset->load_image(i);
      if (img.empty() || img.channels != 3) failed("sample " + std::to_string(i) + " did not decode to RGB");
      sizes += (sizes.empty() ? "" : " ") + std::to_string(img.width) + "x" + std::to_string(img.height);
    }
    return sizes;
  });
}

ExpertInputs random_inputs(const std::vector<LabelSpec>& experts, std::int64_t batch, std::int64_t resolution) {
  ExpertInputs in;
  in.rgb = torch::randn({batch, 3, resolution, resolution});
  for (const LabelSpec& s : experts) in.experts[s.name] = torch::rand({batch, s.channels, 224, 224}) * 2 - 1;
  return in;
}

void validate_backbone(Checks& checks, const PluginRegistry& registry, const PluginRecord& p, const Config& cfg) {
  std::unique_ptr<Backbone> backbone;
  if (!checks.run("construct from defaults", [&] {
        backbone = registry.create_as<Backbone>(p, cfg);
        return std::to_string(backbone->module().parameters().size()) + " parameter tensors";
      }))
    return;
  torch::NoGradGuard no_grad;
  backbone->module().eval();
  torch::manual_seed(0);
  const std::int64_t res = cfg.get<std::int64_t>("image_resolution", 224);
  torch::Tensor memory;
  if (!checks.run("encode", [&] {
        memory = backbone->encode(random_inputs(backbone->experts(), 2, res));
        if (memory.dim() != 3 || memory.size(0) != 2) failed("memory is " + shape_of(memory) + ", expected [2, L, D]");
        if (!torch::isfinite(memory).all().item<bool>()) failed("non-finite encoder output");
        return shape_of(memory);
      }))
    return;
  const auto vocab = static_cast<std::int64_t>(backbone->tokenizer().vocab_size());
  torch::Tensor ids = torch::randint(4, std::max<std::int64_t>(5, vocab), {2, 6}, torch::kLong);
  ids.index_put_({torch::indexing::Slice(), 0}, backbone->tokenizer().bos_id());
  const torch::Tensor mask = torch::ones({2, 6}, torch::kLong);
  torch::Tensor full;
  if (!checks.run("decode", [&] {
        full = backbone->decode(ids, mask, memory, nullptr);
        if (full.dim() != 3 || full.size(0) != 2 || full.size(1) != 6 || full.size(2) != vocab)
          failed("logits are " + shape_of(full) + ", expected [2, 6, " + std::to_string(vocab) + "]");
        return shape_of(full);
      }))
    return;
  checks.run("cached decode equals uncached", [&] {
    auto cache = backbone->new_cache();
    std::vector<torch::Tensor> steps;
    steps.push_back(backbone->decode(ids.slice(1, 0, 3), mask.slice(1, 0, 3), memory, cache.get()));
    for (int t = 3; t < 6; ++t) steps.push_back(backbone->decode(ids.slice(1, t, t + 1), mask.slice(1, 0, t + 1), memory, cache.get()));
    const torch::Tensor cached = torch::cat(steps, 1);
    const double err = (cached - full).abs().max().item<double>();
    if (!(err < 1e-4)) failed("largest difference " + std::to_string(err) + " (tolerance 1e-4)");
    return "largest difference " + std::to_string(err);
  });
}

void validate_task(Checks& checks, const PluginRegistry& registry, const PluginRecord& p, const Config& cfg,
                   const ValidateOptions& options) {
  std::unique_ptr<Task> task;
  std::unique_ptr<Backbone> backbone;
  if (!checks.run("construct from defaults", [&] {
        task = registry.create_as<Task>(p, cfg);
        return std::string("ok");
      }))
    return;
  std::int64_t resolution = 224;
  if (!checks.run("backbone '" + options.backbone + "'", [&] {
        const PluginRecord& record = registry.require(options.backbone, "backbone");
        backbone = registry.create_as<Backbone>(record, Config());
        resolution = PluginRegistry::defaults(record).get<std::int64_t>("image_resolution", 224);
        return std::string("ok");
      }))
    return;
  torch::manual_seed(0);
  Batch batch;
  batch.inputs = random_inputs(backbone->experts(), 2, resolution);
  batch.samples.resize(2);
  const char* captions[] = {"a red square next to a blue circle", "two green circles"};
  for (int i = 0; i < 2; ++i) {
    Sample& s = batch.samples[static_cast<std::size_t>(i)];
    s.id = "sample_" + std::to_string(i);
    s.numeric_id = i;
    s.text["caption"] = captions[i];
    s.text["question"] = "what colour is the square?";
    s.answers = {"red", "blue"};
    s.answer_weights = {0.7f, 0.3f};
  }
  checks.run("loss", [&] {
    backbone->module().train();
    const torch::Tensor loss = task->loss(*backbone, batch);
    if (loss.numel() != 1) failed("loss is " + shape_of(loss) + ", expected a scalar");
    const double v = loss.item<double>();
    if (!std::isfinite(v)) failed("loss is not finite");
    return "loss " + std::to_string(v);
  });
  checks.run("predict", [&] {
    backbone->module().eval();
    torch::NoGradGuard no_grad;
    const auto predictions = task->predict(*backbone, batch);
    if (predictions.size() != 2) failed(std::to_string(predictions.size()) + " predictions for 2 samples");
    return "\"" + predictions[0].text + "\"";
  });
}

}  // namespace

std::vector<std::string> write_synthetic_images(const std::string& dir, int count, unsigned seed) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    const bool nested = i % 2 == 1;
    const std::string name = "synthetic_" + std::to_string(i) + (i % 3 == 2 ? ".png" : ".jpg");
    const fs::path path = nested ? fs::path(dir) / "nested" / name : fs::path(dir) / name;
    write_image(path.string(), synthetic_image(48 + 16 * (i % 3), 40 + 8 * (i % 4), seed + static_cast<unsigned>(i)));
    paths.push_back(path.string());
  }
  return paths;
}

std::vector<CheckResult> validate_plugin(const PluginRegistry& registry, const PluginRecord& plugin,
                                         const ValidateOptions& options) {
  Checks checks;
  std::string scratch = options.scratch_dir;
  bool own_scratch = false;
  if (scratch.empty()) {
    scratch = (fs::temp_directory_path() / ("prismer-validate-" + plugin.name + "-" + std::to_string(::getpid()))).string();
    own_scratch = true;
  }
  fs::create_directories(scratch);
  check_metadata(checks, plugin);
  Config cfg;
  if (checks.run("configuration", [&] {
        cfg = plugin_config(plugin, options, scratch);
        return std::string("ok");
      })) {
    if (plugin.kind == "expert") validate_expert(checks, registry, plugin, cfg, scratch);
    else if (plugin.kind == "dataset") validate_dataset(checks, registry, plugin, cfg);
    else if (plugin.kind == "backbone") validate_backbone(checks, registry, plugin, cfg);
    else if (plugin.kind == "task") validate_task(checks, registry, plugin, cfg, options);
  }
  if (own_scratch) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return checks.results;
}

}  // namespace prismer
