// The labels pipeline: every image of a dataset through each configured expert, written in the Prismer
// layout `<output>/<expert>/<dataset>/<label_name>.png`: resumable (only missing labels are computed), atomic,
// shardable across processes, with placeholder labels for unreadable images.
#include <prismer/core/progress.h>
#include <prismer/dataset.h>
#include <prismer/expert.h>
#include <prismer/log.h>

#include "pipelines.h"

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

namespace prismer::detail {

namespace {

namespace fs = std::filesystem;

constexpr const char* kLabelsSchema = R"(
pipeline: labels
plugin_paths: []
log_level: info
log_file: ""
threads: 0          # torch threads; 0 = every core
device: cpu         # handed to experts that have a `device` key: cpu, cuda, cuda:N or auto
batch_size: 4       # images per expert call
output: results/labels
overwrite: false    # true: recompute labels that already exist
dataset: {}         # {plugin: NAME, ...that plugin's keys}
experts: []         # [{plugin: NAME, ...that plugin's keys}, ...]
)";

struct ConfiguredExpert {
  std::unique_ptr<Expert> expert;
  LabelSpec spec;
  std::string plugin;
};

// Orders experts so each comes after those it depends on; a missing dependency is a config error.
std::vector<std::size_t> dependency_order(const std::vector<ConfiguredExpert>& experts, const Config& list) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < experts.size(); ++i) index[experts[i].spec.name] = i;
  std::vector<std::size_t> order;
  std::vector<int> state(experts.size(), 0);  // 0 new, 1 visiting, 2 done
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    if (state[i] == 2) return;
    if (state[i] == 1) list[i].fail("expert '" + experts[i].spec.name + "' is part of a dependency cycle");
    state[i] = 1;
    for (const std::string& dep : experts[i].spec.depends_on) {
      auto it = index.find(dep);
      if (it == index.end())
        list[i].fail("expert '" + experts[i].spec.name + "' reads the labels of '" + dep + "': add that expert to the list");
      visit(it->second);
    }
    state[i] = 2;
    order.push_back(i);
  };
  for (std::size_t i = 0; i < experts.size(); ++i) visit(i);
  return order;
}

bool label_present(const Expert& expert, const std::string& stem) {
  for (const std::string& f : expert.label_files(stem)) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec) || fs::file_size(f, ec) == 0) return false;
  }
  try {
    (void)expert.load(stem);  // decodes: a half-written or corrupt label is redone
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The original's contract for an image no expert could read (dataset/utils.py get_expert_labels): a zero-byte PNG
// reads as an all-zero map (all-255 for detection/OCR) and a detection `.json` must exist, so `{}`; other side
// files (OCR's `.pt`) are left absent, which the loader also accepts. Training can then still read the sample.
void write_placeholder(const Expert& expert, const std::string& stem) {
  for (const std::string& file : expert.label_files(stem)) {
    const std::string ext = fs::path(file).extension().string();
    if (ext == ".png") write_file_atomic(file, "");
    else if (ext == ".json") write_file_atomic(file, "{}");
  }
}

// --rank/--world-size, else $RANK/$WORLD_SIZE (torchrun's variables), else 0 of 1.
std::pair<int, int> shard_of(const RunOptions& options, const Config& config) {
  auto from_env = [&](const char* name, int given, int fallback) {
    if (given >= 0) return given;
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    try {
      std::size_t used = 0;
      const int n = std::stoi(v, &used);
      if (used == std::string(v).size()) return n;
    } catch (const std::exception&) {
    }
    config.fail(std::string("environment variable ") + name + "='" + v + "' is not an integer");
  };
  const int world = from_env("WORLD_SIZE", options.world_size, 1);
  const int rank = from_env("RANK", options.rank, 0);
  if (world < 1) config.fail("world size must be at least 1, got " + std::to_string(world));
  if (rank < 0 || rank >= world)
    config.fail("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(world - 1) + " (world size " +
                std::to_string(world) + ")");
  return {rank, world};
}

}  // namespace

int run_labels_pipeline(const Config& raw, PluginRegistry& registry, const RunOptions& options) {
  const Config config = raw.with_defaults(Config::parse_string(kLabelsSchema, "labels pipeline schema"));
  apply_common_settings(config);

  // Build every component first: the whole pipeline is validated before any work is done.
  const Config dataset_cfg = config["dataset"];
  if (!dataset_cfg.has("plugin")) dataset_cfg.fail("missing 'plugin:' naming the dataset plugin");
  std::unique_ptr<Dataset> dataset;
  try {
    dataset = registry.create_as<Dataset>(registry.require(dataset_cfg.get<std::string>("plugin"), "dataset"), dataset_cfg);
  } catch (const PluginError& e) {
    dataset_cfg["plugin"].fail(e.what());
  }

  const Config expert_list = config["experts"];
  if (expert_list.size() == 0) expert_list.fail("list at least one expert");
  const std::string device = config.get<std::string>("device");
  std::vector<ConfiguredExpert> experts;
  std::set<std::string> names;
  for (const Config& item : expert_list.items()) {
    if (!item.is_map() || !item.has("plugin")) item.fail("each expert needs 'plugin:' naming an expert plugin");
    const PluginRecord* record = nullptr;
    try {
      record = &registry.require(item.get<std::string>("plugin"), "expert");
    } catch (const PluginError& e) {
      item["plugin"].fail(e.what());
    }
    Config expert_cfg = item;
    if (!item.has("device") && PluginRegistry::defaults(*record).has("device")) expert_cfg.set("device", device);
    ConfiguredExpert e{registry.create_as<Expert>(*record, expert_cfg), {}, record->name};
    e.spec = e.expert->spec();
    if (!names.insert(e.spec.name).second) item.fail("two experts write labels named '" + e.spec.name + "'");
    experts.push_back(std::move(e));
  }
  const std::vector<std::size_t> order = dependency_order(experts, expert_list);
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < experts.size(); ++i) by_name[experts[i].spec.name] = i;
  const int batch_size = config.get<int>("batch_size");
  if (batch_size <= 0) config["batch_size"].fail("must be positive");
  const std::string output = config.get<std::string>("output");
  const bool overwrite = config.get<bool>("overwrite");

  std::cout << "pipeline labels\n  dataset: " << dataset_cfg.get<std::string>("plugin") << " (" << dataset->size()
            << " images, label folder '" << dataset->label_subdir() << "')\n  experts:";
  for (std::size_t i : order) std::cout << " " << experts[i].spec.name << " [" << experts[i].plugin << "]";
  std::cout << "\n  output: " << output << "/<expert>/" << dataset->label_subdir() << "/\n  batch size: " << batch_size
            << ", threads: " << torch::get_num_threads() << "\n";
  if (options.dry_run) {
    std::cout << "dry run: configuration is valid, nothing was written\n";
    return 0;
  }

  const auto [rank, world] = shard_of(options, config);
  // Rank r takes every world-th image from r: the shards are disjoint and cover the dataset.
  std::vector<std::size_t> indices;
  for (std::size_t i = static_cast<std::size_t>(rank); i < dataset->size(); i += static_cast<std::size_t>(world))
    indices.push_back(i);
  if (world > 1)
    std::cout << "  shard: rank " << rank << " of " << world << " (" << indices.size() << " of " << dataset->size()
              << " images)\n";

  torch::InferenceMode inference;
  const std::size_t total = indices.size();
  std::size_t written = 0, present = 0, bad = 0;
  Progress progress(world > 1 ? "labels[" + std::to_string(rank) + "/" + std::to_string(world) + "]" : "labels", total);

  auto stem_of = [&](const ConfiguredExpert& e, const Sample& s) {
    return (fs::path(output) / e.spec.name / dataset->label_subdir_of(s) / s.label_name).string();
  };

  for (std::size_t begin = 0; begin < total; begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(total, begin + static_cast<std::size_t>(batch_size));
    std::vector<Sample> samples;
    std::vector<Image> images;
    std::vector<std::vector<bool>> missing;  // [image][expert]: that label has to be computed
    for (std::size_t n = begin; n < end; ++n) {
      const std::size_t i = indices[n];
      Sample s = dataset->sample(i);
      std::vector<bool> need(experts.size());
      bool complete = true;
      for (std::size_t k = 0; k < experts.size(); ++k) {
        need[k] = overwrite || !label_present(*experts[k].expert, stem_of(experts[k], s));
        complete = complete && !need[k];
      }
      if (complete) {
        ++present;
        progress.advance(1, true);
        continue;
      }
      try {
        images.push_back(dataset->load_image(i));
        samples.push_back(std::move(s));
        missing.push_back(std::move(need));
      } catch (const std::exception& e) {
        ++bad;
        log::warn("bad image, placeholder labels written: {}", e.what());
        for (std::size_t k = 0; k < experts.size(); ++k)  // a real label (overwrite: true) is never replaced
          if (need[k] && (!overwrite || !label_present(*experts[k].expert, stem_of(experts[k], s))))
            write_placeholder(*experts[k].expert, stem_of(experts[k], s));
        progress.advance(1, true);
      }
    }
    if (samples.empty()) continue;
    // Each expert runs on the images missing its label, in dependency order; a dependency's label comes from this
    // batch or, when it already existed, from its file.
    std::vector<std::map<std::string, Label>> produced(samples.size());
    for (std::size_t k : order) {
      ConfiguredExpert& e = experts[k];
      std::vector<std::size_t> todo;
      for (std::size_t j = 0; j < samples.size(); ++j)
        if (missing[j][k]) todo.push_back(j);
      if (todo.empty()) continue;
      std::vector<Image> batch;
      std::vector<ExpertContext> context(todo.size());
      for (std::size_t t = 0; t < todo.size(); ++t) {
        const std::size_t j = todo[t];
        batch.push_back(images[j]);
        context[t].sample = &samples[j];
        for (const std::string& dep : e.spec.depends_on) {
          if (produced[j].count(dep) == 0) {
            const ConfiguredExpert& provider = experts[by_name.at(dep)];
            produced[j][dep] = provider.expert->load(stem_of(provider, samples[j]));
          }
          context[t].previous[dep] = &produced[j].at(dep);
        }
      }
      std::vector<Label> labels = e.expert->predict(batch, context);
      if (labels.size() != todo.size())
        throw std::runtime_error("expert '" + e.spec.name + "' returned " + std::to_string(labels.size()) + " labels for " +
                                 std::to_string(todo.size()) + " images");
      for (std::size_t t = 0; t < todo.size(); ++t) {
        const std::size_t j = todo[t];
        e.expert->save(labels[t], stem_of(e, samples[j]));
        produced[j][e.spec.name] = std::move(labels[t]);
      }
    }
    written += samples.size();
    progress.advance(samples.size());
  }
  progress.finish();
  std::cout << "labels: " << total << " images: " << written << " labelled, " << present << " already complete, " << bad
            << " bad (placeholders written, listed above)\n";
  if (written == 0 && total > 0 && present + bad == total)
    std::cout << "nothing to do: every label already exists" << (bad ? " (unreadable images keep their placeholders)" : "")
              << "; overwrite: true recomputes them\n";
  if (dataset->skipped() > 0) std::cout << "dataset: " << dataset->skipped() << " entries could not be listed\n";
  return 0;
}

}  // namespace prismer::detail
