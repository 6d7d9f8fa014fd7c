// `pipeline: quickstart` — the embedded default a fresh machine runs with nothing downloaded: synthetic scenes with
// their exact depth and segmentation labels, a byte-level BPE vocabulary learnt from their text, then for each model
// variant (Prismer with experts, PrismerZ on RGB only): the untrained baseline, caption training, VQA fine-tuning
// from the caption model, and the held-out scores; finally captions and answers for a few unseen scenes.
//
// Every stage is an ordinary `train` / `evaluate` pipeline written to <output>/<variant>/<stage>.yaml and run from
// that file, so a researcher can rerun or edit any stage alone with `prismer run`.
#include "json_file.h"

#include <prismer/engine/pipelines.h>

#include <prismer/config.h>
#include <prismer/core/pipeline.h>
#include <prismer/core/plugin_registry.h>
#include <prismer/dataset.h>
#include <prismer/device.h>
#include <prismer/log.h>
#include <prismer/text/bpe_trainer.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace prismer::engine {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kQuickstartSchema = R"(
pipeline: quickstart
plugin_paths: []
log_level: info
threads: 0               # torch threads of every stage; 0 = every core
data: data/quickstart    # synthetic scenes, their expert labels (<data>/labels) and annotation files
output: results/quickstart
scenes: {}               # synthetic dataset keys: count (train scenes), test_count, image_size, seed
vocab_size: 400          # byte-level BPE vocabulary learnt from the training text
model: {}                # backbone keys of the tiny Prismer (plugin prismer), e.g. vit_width
caption: {}              # train pipeline keys of the caption stage (epochs, batch_size, init_lr, ...)
caption_task: {}         # caption task keys (decoding, max_length, ...)
vqa: {}                  # train pipeline keys of the VQA stage (starts from the caption model)
vqa_task: {}             # vqa task keys
vqa_scenes: 0            # training scenes whose questions the VQA stage uses (0 = all; 5 questions each)
baseline_scenes: 0       # unseen scenes the untrained baselines are scored on (0 = all; they score near 0 anyway)
variants: {}             # name: [experts]; [] = PrismerZ (RGB only)
primary: prismer         # the variant whose scores are the headline figures of metrics.json
samples: 4               # unseen test scenes whose captions and answers are printed
)";

/// `dst.path.key = value` for every key of the map `src` (YAML values, so lists and maps pass through).
void overlay(Config& dst, const std::string& path, const Config& src) {
  if (src.is_null()) return;
  if (!src.is_map()) src.fail("expected a map of keys");
  for (const std::string& key : src.keys()) dst.set(path.empty() ? key : path + "." + key, src[key].dump());
}

std::string yaml_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s + "]";
}

/// Writes the stage's configuration to `file` and runs it from there (messages then name that file).
void run_stage(const Config& stage, const fs::path& file, const std::string& title) {
  fs::create_directories(file.parent_path());
  {
    std::ofstream out(file);
    out << "# written by the quickstart pipeline; rerun this stage alone with: prismer run " << file.string() << "\n"
        << stage.dump() << "\n";
    if (!out) throw std::runtime_error("cannot write " + file.string());
  }
  std::cout << "\n== " << title << "  (" << file.string() << ")\n" << std::flush;
  const int status = run_pipeline(Config::parse_file(file.string()), RunOptions{});
  if (status != 0) throw std::runtime_error("stage '" + title + "' failed with status " + std::to_string(status));
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return json::parse(in);
}

/// The kept model's metrics of a training run: the epoch with the best `metric` (train_summary.json).
json best_metrics(const fs::path& run, const std::string& metric, std::int64_t* epoch) {
  const json summary = read_json(run / "train_summary.json");
  json best;
  double top = -1;
  for (const json& e : summary) {
    const double v = e.at("metrics").value(metric, -1.0);
    if (v > top) top = v, best = e.at("metrics"), *epoch = e.at("epoch").get<std::int64_t>();
  }
  if (best.is_null()) throw std::runtime_error(run.string() + "/train_summary.json has no '" + metric + "'");
  return best;
}

struct Layout {
  fs::path data, output, vocab, merges;
  std::size_t vocab_tokens = 0;
  Config scenes;
  int threads = 0;
};

/// The synthetic dataset of a split and task, as a stage's `dataset:` map.
Config dataset_config(const Layout& l, const std::string& split, const std::string& task, int use = 0) {
  Config d = Config::parse_string("plugin: synthetic", "quickstart dataset");
  d.set("root", l.data.string());
  d.set("split", split);
  d.set("task", task);
  for (const std::string& key : l.scenes.keys()) {
    if (key == "test_count") continue;
    if (key == "count" && split == "test") continue;
    d.set(key, l.scenes[key].dump());
  }
  if (split == "test") d.set("count", l.scenes.has("test_count") ? l.scenes["test_count"].dump() : "200");
  if (use > 0) d.set("use", std::to_string(use));
  return d;
}

Config stage_base(const Layout& l, const std::string& kind, const fs::path& output) {
  Config c = Config::parse_string("pipeline: " + kind, "quickstart stage");
  c.set("threads", std::to_string(l.threads));
  c.set("output", output.string());
  c.set("label_root", (l.data / "labels").string());
  c.set("features_dir", (l.data / "features").string());
  return c;
}

void set_map(Config& c, const std::string& key, const Config& value) { c.set(key, value.dump()); }

struct VariantScores {
  double cider = 0, vqa = 0, untrained_cider = 0, untrained_vqa = 0;
  std::int64_t caption_epoch = 0, vqa_epoch = 0;
};

VariantScores run_variant(const Config& config, const Layout& l, const std::string& name,
                          const std::vector<std::string>& experts) {
  const fs::path dir = l.output / name;
  Config backbone = Config::parse_string("plugin: prismer\npreset: tiny", "quickstart model");
  overlay(backbone, "", config["model"]);
  backbone.set("experts", yaml_list(experts));
  backbone.set("vocab", l.vocab.string());
  backbone.set("merges", l.merges.string());
  // the output layer has one row per token of the learnt vocabulary
  if (!config["model"].has("vocab_size")) backbone.set("vocab_size", std::to_string(l.vocab_tokens));
  Config caption_task = Config::parse_string("plugin: caption", "quickstart caption task");
  overlay(caption_task, "", config["caption_task"]);
  Config vqa_task = Config::parse_string("plugin: vqa", "quickstart vqa task");
  overlay(vqa_task, "", config["vqa_task"]);
  // rank inference scores the scenes' answer list (written with the scenes)
  if (!vqa_task.has("answer_list") && !vqa_task.has("answers"))
    vqa_task.set("answer_list", (l.data / "synthetic" / "answer_list.json").string());
  const std::string label = name + (experts.empty() ? " (RGB only)" : " (RGB + " + yaml_list(experts) + ")");
  VariantScores s;

  // The untrained baseline: the same model before any training step (on the first baseline_scenes unseen scenes).
  int baseline_scenes = config.get<int>("baseline_scenes");
  if (baseline_scenes >= (l.scenes.has("test_count") ? l.scenes.get<int>("test_count") : 200)) baseline_scenes = 0;
  for (const auto& [task, task_cfg] : {std::pair<std::string, Config>{"caption", caption_task}, {"vqa", vqa_task}}) {
    Config e = stage_base(l, "evaluate", dir / "untrained" / task);
    set_map(e, "dataset", dataset_config(l, "test", task, baseline_scenes));
    set_map(e, "backbone", backbone);
    set_map(e, "task", task_cfg);
    run_stage(e, dir / ("untrained_" + task + ".yaml"), label + ": untrained " + task + " baseline");
    const json m = read_json(dir / "untrained" / task / "metrics.json");
    (task == "caption" ? s.untrained_cider : s.untrained_vqa) = m.value(task == "caption" ? "CIDEr" : "accuracy", 0.0);
  }

  Config cap = stage_base(l, "train", dir / "caption");
  overlay(cap, "", config["caption"]);
  cap.set("metric", "CIDEr");
  set_map(cap, "dataset", dataset_config(l, "train", "caption"));
  set_map(cap, "eval_dataset", dataset_config(l, "test", "caption"));
  set_map(cap, "backbone", backbone);
  set_map(cap, "task", caption_task);
  run_stage(cap, dir / "caption.yaml", label + ": caption training");
  s.cider = best_metrics(dir / "caption", "CIDEr", &s.caption_epoch).value("CIDEr", 0.0);

  // VQA starts from the caption model, as the original fine-tunes VQA from a pre-trained Prismer.
  Config vqa = stage_base(l, "train", dir / "vqa");
  overlay(vqa, "", config["vqa"]);
  vqa.set("metric", "accuracy");
  int vqa_scenes = config.get<int>("vqa_scenes");
  if (l.scenes.has("count") && vqa_scenes > l.scenes.get<int>("count")) vqa_scenes = 0;  // fewer scenes: use them all
  set_map(vqa, "dataset", dataset_config(l, "train", "vqa", vqa_scenes));
  set_map(vqa, "eval_dataset", dataset_config(l, "test", "vqa"));
  Config start = backbone;
  start.set("checkpoint", (dir / "caption" / "pytorch_model.bin").string());
  set_map(vqa, "backbone", start);
  set_map(vqa, "task", vqa_task);
  run_stage(vqa, dir / "vqa.yaml", label + ": VQA fine-tuning");
  s.vqa = best_metrics(dir / "vqa", "accuracy", &s.vqa_epoch).value("accuracy", 0.0);
  return s;
}

/// Captions and answers of the first `count` unseen scenes, from the kept models' result files.
json sample_outputs(const Layout& l, const std::string& variant, const VariantScores& s, int count) {
  const fs::path dir = l.output / variant;
  const json captions = read_json(dir / "caption" / ("results_epoch" + std::to_string(s.caption_epoch) + ".json"));
  const json answers = read_json(dir / "vqa" / ("results_epoch" + std::to_string(s.vqa_epoch) + ".json"));
  std::map<std::int64_t, std::string> caption_of, answer_of;
  for (const json& c : captions) caption_of[c.at("image_id").get<std::int64_t>()] = c.at("caption").get<std::string>();
  for (const json& a : answers) answer_of[a.at("question_id").get<std::int64_t>()] = a.at("answer").get<std::string>();
  const json test = read_json(l.data / "synthetic" / "test.json");
  json out = json::array();
  for (const json& image : test.at("images")) {
    if (static_cast<int>(out.size()) >= count) break;
    const auto id = image.at("image_id").get<std::int64_t>();
    json qa = json::array();
    for (const json& q : image.at("qa")) {
      const auto it = answer_of.find(q.at("question_id").get<std::int64_t>());
      qa.push_back({{"question", q.at("question")}, {"answer", it == answer_of.end() ? "" : it->second},
                    {"expected", q.at("answer")}});
    }
    out.push_back({{"image", (l.data / "synthetic" / image.at("image").get<std::string>()).string()},
                   {"caption", caption_of.count(id) ? caption_of[id] : ""},
                   {"reference", image.at("captions").at(0)},
                   {"questions", qa}});
  }
  return out;
}

int run_quickstart(const Config& raw, PluginRegistry& registry, const RunOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const Config config = raw.with_defaults(Config::parse_string(kQuickstartSchema, "quickstart pipeline schema"));
  log::set_level(config.get<std::string>("log_level"));
  Layout l;
  l.data = config.get<std::string>("data");
  l.output = config.get<std::string>("output");
  l.scenes = config["scenes"];
  l.threads = config.get<int>("threads");
  if (l.threads < 0) config["threads"].fail("must be 0 (every core) or a positive count");
  set_compute_threads(l.threads);
  const Config variants = config["variants"];
  if (!variants.is_map() || variants.size() == 0) config["variants"].fail("list at least one variant: name: [experts]");
  const std::string primary = config.get<std::string>("primary");
  if (!variants.has(primary)) config["primary"].fail("'" + primary + "' is not one of the variants");
  const int samples = config.get<int>("samples");
  if (config.get<int>("vqa_scenes") < 0) config["vqa_scenes"].fail("must be >= 0");
  if (config.get<int>("baseline_scenes") < 0) config["baseline_scenes"].fail("must be >= 0");
  const auto vocab_size = config.get<std::int64_t>("vocab_size");
  if (vocab_size < 260) config["vocab_size"].fail("must be at least 260 (the 256 bytes and 4 special tokens)");
  for (const std::string& key : {std::string("dataset"), std::string("eval_dataset"), std::string("backbone"),
                                 std::string("task"), std::string("output"), std::string("metric")})
    for (const char* stage : {"caption", "vqa"})
      if (config[stage].has(key)) config[stage][key].fail("set by the quickstart itself; change data/model/" + std::string(stage) + "_task instead");
  // Validate the plugins the stages need before any work.
  for (const char* p : {"synthetic", "prismer", "caption", "vqa"})
    if (!registry.find(p)) config["pipeline"].fail(std::string("the quickstart needs the '") + p + "' plugin, which was not found");
  if (options.dry_run) {
    std::cout << "dry run: the quickstart configuration is valid; stages would be written under " << l.output.string() << "\n";
    return 0;
  }
  fs::create_directories(l.output);

  // 1. Scenes and their labels (rendered once; reused while the settings match).
  std::cout << "== synthetic scenes and their depth / segmentation labels in " << l.data.string() << "\n";
  std::size_t train_texts = 0;
  for (const char* split : {"train", "test"}) {
    const Config d = dataset_config(l, split, "caption");
    auto dataset = registry.create_as<Dataset>(registry.require("synthetic", "dataset"), d);
    std::cout << "  " << split << ": " << dataset->size() << " captions\n";
  }

  // 2. The vocabulary, learnt from the training scenes' text.
  const fs::path corpus = l.data / "synthetic" / "train_corpus.txt";
  std::vector<std::string> texts;
  {
    std::ifstream in(corpus);
    if (!in) throw std::runtime_error("cannot read " + corpus.string());
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) texts.push_back(line);
    train_texts = texts.size();
  }
  text::BpeTrainOptions bpe;
  bpe.vocab_size = static_cast<std::size_t>(vocab_size);
  const text::BpeVocabulary vocabulary = text::train_byte_level_bpe(texts, bpe);
  const fs::path tok_dir = l.output / "tokenizer";
  text::write_bpe_vocabulary(vocabulary, tok_dir);
  l.vocab = tok_dir / "vocab.json";
  l.merges = tok_dir / "merges.txt";
  l.vocab_tokens = vocabulary.tokens.size();
  std::cout << "== tokenizer: " << vocabulary.tokens.size() << " tokens (" << vocabulary.merges.size()
            << " merges) from " << train_texts << " texts -> " << tok_dir.string() << "\n";

  // 3. Each variant: untrained baseline, caption training, VQA fine-tuning.
  std::map<std::string, VariantScores> scores;
  for (const std::string& name : variants.keys()) {
    const Config e = variants[name];
    const std::vector<std::string> experts = e.is_null() ? std::vector<std::string>{} : e.as<std::vector<std::string>>();
    scores[name] = run_variant(config, l, name, experts);
  }

  // 4. Report.
  const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / 60.0;
  const VariantScores& p = scores.at(primary);
  json metrics = {{"cider", p.cider},
                  {"vqa_accuracy", p.vqa},
                  {"untrained_cider", p.untrained_cider},
                  {"untrained_vqa_accuracy", p.untrained_vqa},
                  {"primary", primary},
                  {"minutes", minutes}};
  json per_variant = json::object();
  for (const auto& [name, s] : scores) {
    per_variant[name] = {{"experts", variants[name].is_null() ? std::vector<std::string>{} : variants[name].as<std::vector<std::string>>()},
                         {"cider", s.cider}, {"vqa_accuracy", s.vqa},
                         {"untrained_cider", s.untrained_cider}, {"untrained_vqa_accuracy", s.untrained_vqa}};
  }
  metrics["variants"] = per_variant;
  json examples = sample_outputs(l, primary, p, samples);
  write_json(l.output / "metrics.json", metrics);
  write_json(l.output / "samples.json", examples);

  std::cout << "\n== unseen scenes (" << primary << ")\n";
  for (const json& x : examples) {
    std::cout << x.at("image").get<std::string>() << "\n  caption:   " << x.at("caption").get<std::string>()
              << "\n  reference: " << x.at("reference").get<std::string>() << "\n";
    for (const json& q : x.at("questions"))
      std::cout << "  Q: " << q.at("question").get<std::string>() << "  A: " << q.at("answer").get<std::string>()
                << "  (expected " << q.at("expected").get<std::string>() << ")\n";
  }
  std::cout << "\n== held-out scores (" << l.data.string() << "/synthetic/test)\n";
  std::cout << std::left << std::setw(34) << "model" << std::right << std::setw(10) << "CIDEr" << std::setw(14)
            << "VQA acc. %" << "\n";
  auto row = [](const std::string& what, double c, double v) {
    std::ostringstream r;
    r << std::left << std::setw(34) << what << std::right << std::fixed << std::setprecision(3) << std::setw(10) << c
      << std::setprecision(2) << std::setw(14) << v << "\n";
    std::cout << r.str();
  };
  for (const auto& [name, s] : scores) {
    const Config e = variants[name];
    const std::string what = name + (e.is_null() || e.size() == 0 ? " (RGB only)" : " (RGB + experts)");
    row(what + ", untrained", s.untrained_cider, s.untrained_vqa);
    row(what + ", trained", s.cider, s.vqa);
  }
  std::cout << "\nmetrics: " << (l.output / "metrics.json").string() << ", samples: " << (l.output / "samples.json").string()
            << "  (" << std::fixed << std::setprecision(1) << minutes << " min)\n";
  return 0;
}

}  // namespace

void register_quickstart_pipeline() { register_pipeline("quickstart", run_quickstart); }

}  // namespace prismer::engine
