// `prismer run PIPELINE.yaml`: validate the whole pipeline, compose it from plugins, run it.
#pragma once

#include <prismer/config.h>
#include <prismer/export.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer {

struct RunOptions {
  std::vector<std::pair<std::string, std::string>> overrides;  ///< --set key.path=value
  bool dry_run = false;  ///< validate and print the plan only
};

/// Parses, validates and runs a pipeline file. Configuration problems throw ConfigError (exit status 2
/// in the command); other failures throw std::runtime_error. Returns the process exit status.
PRISMER_API int run_pipeline_file(const std::string& path, const RunOptions& options);

/// The pipeline kinds `pipeline:` accepts.
PRISMER_API std::vector<std::string> pipeline_kinds();

}  // namespace prismer
