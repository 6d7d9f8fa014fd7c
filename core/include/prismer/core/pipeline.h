// `prismer run PIPELINE.yaml`: validate the whole pipeline, compose it from plugins, run it.
#pragma once

#include <prismer/config.h>
#include <prismer/export.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace prismer {

struct RunOptions {
  std::vector<std::pair<std::string, std::string>> overrides;  ///< --set key.path=value
  bool dry_run = false;  ///< validate and print the plan only
  /// This process among `world_size` (--rank/--world-size; -1: from $RANK / $WORLD_SIZE, else 0 of 1). The labels
  /// pipeline gives rank r every world_size-th image from r, so several processes split one folder.
  int rank = -1;
  int world_size = -1;
};

/// Parses, validates and runs a pipeline file. Configuration problems throw ConfigError (exit status 2
/// in the command); other failures throw std::runtime_error. Returns the process exit status.
PRISMER_API int run_pipeline_file(const std::string& path, const RunOptions& options);

/// Validates and runs an already parsed pipeline (what run_pipeline_file does after reading the file; --set
/// overrides in `options` are applied first). Lets a pipeline run others as its stages (the quickstart).
PRISMER_API int run_pipeline(Config config, const RunOptions& options);

/// The pipeline kinds `pipeline:` accepts.
PRISMER_API std::vector<std::string> pipeline_kinds();

class PluginRegistry;
/// Runs one pipeline kind: the parsed file (with --set applied), the scanned plugins, the options.
using PipelineRunner = std::function<int(const Config& config, PluginRegistry& registry, const RunOptions& options)>;

/// Adds a pipeline kind implemented outside libprismer_core (the engine's `train` / `evaluate`, which sit above
/// core and the data library). Call before run_pipeline_file; a second registration of a kind replaces the first.
PRISMER_API void register_pipeline(const std::string& kind, PipelineRunner runner);

}  // namespace prismer
