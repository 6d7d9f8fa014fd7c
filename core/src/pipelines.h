// The pipeline implementations behind run_pipeline_file (internal to libprismer_core).
#pragma once

#include <prismer/config.h>
#include <prismer/core/pipeline.h>
#include <prismer/core/plugin_registry.h>

namespace prismer::detail {

/// `pipeline: labels`: dataset images -> experts in dependency order -> label files.
int run_labels_pipeline(const Config& config, PluginRegistry& registry, const RunOptions& options);

/// Applies the settings every pipeline shares (log level and file, torch threads).
void apply_common_settings(const Config& config);

}  // namespace prismer::detail
