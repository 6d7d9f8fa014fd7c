// `pipeline: demo` (configs/demo.yaml): the original's demo.py + demo_vis.py in one process. Every expert's labels
// for a folder of photos (the labels pipeline: each expert model loaded once, resumable), then captions from a
// Prismer checkpoint (an `evaluate` stage without scoring), then per image `<output>/captions/<relative path>.txt`
// and, with OpenCV, `<output>/label_pictures/<relative path>_labels.png`.
#include "demo_pipeline.h"

#ifdef PRISMER_HAVE_OPENCV
#include "label_picture.h"
#endif

#include <prismer/config.h>
#include <prismer/core/pipeline.h>
#include <prismer/core/plugin_registry.h>
#include <prismer/image.h>
#include <prismer/log.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

namespace prismer::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoSchema = R"(
pipeline: demo
plugin_paths: []
log_level: info
threads: 0               # torch threads; 0 = every core
device: cpu              # experts and backbone: cpu | cuda | cuda:N | auto
images: helpers/images   # every .jpg/.jpeg/.png below this folder (the original: helpers/*/)
name: ""                 # the <dataset> folder of the label layout; default: the images folder's name
output: helpers/demo     # labels/, captions/, label_pictures/, results.json
batch_size: 4            # images per expert call and per captioning batch
label_pictures: true     # a picture of every image's labels (needs the OpenCV build)
features_dir: ""         # the CLIP feature tables (coco/ade/detection/background_features.pt) for semantic experts
experts: []              # the labels pipeline's experts: [{plugin: NAME, ...}]; [] for PrismerZ
backbone: {}             # {plugin: prismer, checkpoint: ..., experts: [...]}
task: {}                 # {plugin: caption, prefix: A picture of}
)";

/// The expert names a backbone reads: its `experts:` key, else its plugin's default.
std::vector<std::string> backbone_experts(const Config& backbone, PluginRegistry& registry) {
  Config experts = backbone["experts"];
  if (experts.is_null()) {
    const PluginRecord& p = registry.require(backbone.get<std::string>("plugin"), "backbone");
    experts = Config::parse_string(p.default_config, p.name + " defaults")["experts"];
  }
  if (experts.is_null()) return {};
  std::vector<std::string> names = experts.as<std::vector<std::string>>();
  names.erase(std::remove(names.begin(), names.end(), "none"), names.end());
  return names;
}

/// The label folder an expert entry writes: its `label_name`, else its plugin's default, else the plugin name.
std::string label_name_of(const Config& expert, PluginRegistry& registry) {
  if (expert.has("label_name")) return expert.get<std::string>("label_name");
  const std::string plugin = expert.get<std::string>("plugin");
  const PluginRecord& p = registry.require(plugin, "expert");
  const Config defaults = Config::parse_string(p.default_config, p.name + " defaults");
  return defaults.has("label_name") ? defaults.get<std::string>("label_name") : plugin;
}

/// The original's caption.capitalize() + '.': the first character upper-case, the rest lower-case.
std::string demo_sentence(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text + ".";
}

void set_map(Config& c, const std::string& key, const Config& value) { c.set(key, value.dump()); }

int run_demo(const Config& raw, PluginRegistry& registry, const RunOptions& options) {
  const Config config = raw.with_defaults(Config::parse_string(kDemoSchema, "demo pipeline schema"));
  const fs::path images = config.get<std::string>("images");
  if (!fs::is_directory(images)) config["images"].fail("folder '" + images.string() + "' does not exist");
  const fs::path output = config.get<std::string>("output");
  const Config experts = config["experts"];
  if (!experts.is_sequence() && !experts.is_null()) experts.fail("must be a list of {plugin: NAME, ...}");
  const Config backbone = config["backbone"];
  if (!backbone.has("plugin")) backbone.fail("missing 'plugin:' naming the backbone plugin (e.g. prismer)");
  if (!config["task"].has("plugin")) config["task"].fail("missing 'plugin:' naming the task plugin (caption)");

  // The backbone's expert inputs and the experts listed must agree before anything runs.
  const std::vector<std::string> reads = backbone_experts(backbone, registry);
  std::set<std::string> produced;
  for (const Config& e : experts.items()) {
    if (!e.has("plugin")) e.fail("missing 'plugin:' naming the expert plugin");
    produced.insert(label_name_of(e, registry));
  }
  if (reads.empty() && !produced.empty())
    experts.fail("the backbone is PrismerZ (backbone.experts: []): it reads the RGB image only and needs no expert "
                 "labels; set experts: [] (or use a Prismer checkpoint and list its experts in backbone.experts)");
  for (const std::string& e : reads)
    if (produced.count(e) == 0)
      backbone["experts"].fail("the backbone reads '" + e + "' labels but no entry of experts: produces them " +
                               "(add {plugin: " + e + "} or remove '" + e + "' for a checkpoint without it)");

  RunOptions stage_options;  // the --set overrides were applied to this pipeline already
  stage_options.dry_run = options.dry_run;
  const fs::path label_root = output / "labels";
  Config dataset = Config::parse_string("plugin: image_folder", "demo dataset");
  dataset.set("root", images.string());
  if (!config.get<std::string>("name").empty()) dataset.set("name", config["name"].dump());

  auto common = [&](const std::string& kind) {
    Config c = Config::parse_string("pipeline: " + kind, "demo " + kind + " stage");
    for (const char* key : {"plugin_paths", "log_level", "threads", "batch_size"}) c.set(key, config[key].dump());
    set_map(c, "dataset", dataset);
    return c;
  };

  if (!produced.empty()) {
    std::cout << "== expert labels (" << produced.size() << " experts) -> " << label_root.string() << "\n" << std::flush;
    Config labels = common("labels");
    labels.set("output", label_root.string());
    labels.set("device", config["device"].dump());
    set_map(labels, "experts", experts);
    const int status = run_pipeline(labels, stage_options);
    if (status != 0) return status;
  }

  std::cout << "== captions\n" << std::flush;
  Config evaluate = common("evaluate");
  evaluate.set("output", output.string());
  evaluate.set("score", "false");
  evaluate.set("loader_threads", "1");
  evaluate.set("label_root", label_root.string());
  evaluate.set("features_dir", config["features_dir"].dump());
  Config model = backbone;
  if (!model.has("device")) model.set("device", config["device"].dump());
  set_map(evaluate, "backbone", model);
  set_map(evaluate, "task", config["task"]);
  const int status = run_pipeline(evaluate, stage_options);
  if (status != 0 || options.dry_run) return status;

  // results.json: [{"image_id": "<relative path>", "caption": ...}] in the dataset's order.
  const fs::path results = output / "results.json";
  std::ifstream in(results);
  if (!in) throw std::runtime_error("cannot read " + results.string());
  const nlohmann::json doc = nlohmann::json::parse(in);
  const bool pictures = config.get<bool>("label_pictures");
#ifndef PRISMER_HAVE_OPENCV
  if (pictures) log::warn("demo: this build has no OpenCV: no label pictures (label_pictures: false silences this)");
#endif
  int written = 0;
  for (const nlohmann::json& r : doc) {
    const std::string rel = r.at("image_id").is_string() ? r.at("image_id").get<std::string>() : r.at("image_id").dump();
    const std::string caption = demo_sentence(r.at("caption").get<std::string>());
    const fs::path txt = (output / "captions" / rel).replace_extension(".txt");
    fs::create_directories(txt.parent_path());
    write_file_atomic(txt.string(), caption);
    std::cout << rel << ": " << caption << "\n";
#ifdef PRISMER_HAVE_OPENCV
    if (pictures) {
      fs::path picture = output / "label_pictures" / rel;
      picture.replace_filename(picture.stem().string() + "_labels.png");
      fs::create_directories(picture.parent_path());
      write_label_picture(fs::is_directory(label_root) ? label_root : output, images / rel, picture);
    }
#endif
    ++written;
  }
  std::cout << written << " captions in " << (output / "captions").string();
#ifdef PRISMER_HAVE_OPENCV
  if (pictures) std::cout << ", label pictures in " << (output / "label_pictures").string();
#endif
  std::cout << "\n";
  return 0;
}

}  // namespace

void register_demo_pipeline() { register_pipeline("demo", run_demo); }

}  // namespace prismer::cli
