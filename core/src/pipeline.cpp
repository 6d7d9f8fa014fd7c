// Pipeline entry: parse, apply --set, load plugins from the search path, dispatch on `pipeline:`.
#include <prismer/device.h>
#include <prismer/core/pipeline.h>
#include <prismer/log.h>

#include "pipelines.h"

#include <ATen/Parallel.h>

#include <filesystem>
#include <map>
#include <thread>

namespace prismer {

namespace {
std::map<std::string, PipelineRunner>& registered_pipelines() {
  static std::map<std::string, PipelineRunner> runners;
  return runners;
}
}  // namespace

void register_pipeline(const std::string& kind, PipelineRunner runner) { registered_pipelines()[kind] = std::move(runner); }

std::vector<std::string> pipeline_kinds() {
  std::vector<std::string> kinds{"labels"};
  for (const auto& kv : registered_pipelines()) kinds.push_back(kv.first);
  return kinds;
}

namespace detail {

void apply_common_settings(const Config& config) {
  try {
    log::set_level(config.get<std::string>("log_level", "info"));
  } catch (const std::invalid_argument& e) {
    config["log_level"].fail(e.what());
  }
  const std::string log_file = config.get<std::string>("log_file", "");
  if (!log_file.empty()) {
    const std::filesystem::path p(log_file);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    log::add_file(log_file);
  }
  int threads = config.get<int>("threads", 0);
  if (threads < 0) config["threads"].fail("must be 0 (all cores) or a positive count");
  // Debian's LibTorch starts with one thread: use every core unless told otherwise.
  set_compute_threads(threads);
}

}  // namespace detail

int run_pipeline_file(const std::string& path, const RunOptions& options) {
  return run_pipeline(Config::parse_file(path), options);
}

int run_pipeline(Config config, const RunOptions& options) {
  for (const auto& [key, value] : options.overrides) config.set(key, value);
  if (!config.is_map()) config.fail("a pipeline file must be a YAML map");
  if (!config.has("pipeline")) {
    std::string known;
    for (const auto& k : pipeline_kinds()) known += (known.empty() ? "" : ", ") + k;
    config.fail("missing required key 'pipeline' (one of: " + known + ")");
  }
  const std::string kind = config.get<std::string>("pipeline");

  PluginRegistry registry;
  std::vector<std::string> search = PluginRegistry::default_search_path();
  const Config extra = config["plugin_paths"];
  if (!extra.is_null() && !extra.is_sequence()) extra.fail("expected a list of folders");
  for (const Config& dir : extra.items()) {
    const std::string d = dir.as<std::string>();
    if (!std::filesystem::is_directory(d)) dir.fail("plugin folder '" + d + "' does not exist");
    search.push_back(d);
  }
  registry.scan(search);
  for (const std::string& problem : registry.problems()) log::warn("skipped a library: {}", problem);

  if (kind == "labels") return detail::run_labels_pipeline(config, registry, options);
  if (auto it = registered_pipelines().find(kind); it != registered_pipelines().end())
    return it->second(config, registry, options);
  std::string known;
  for (const auto& k : pipeline_kinds()) known += (known.empty() ? "" : ", ") + k;
  config["pipeline"].fail("unknown pipeline '" + kind + "' (known: " + known + ")");
}

}  // namespace prismer
