// `prismer plugins validate`: one conformance suite per plugin kind, run against any plugin.
#pragma once

#include <prismer/core/plugin_registry.h>
#include <prismer/export.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer {

/// The outcome of one conformance check.
struct CheckResult {
  std::string name;
  bool passed = false;
  std::string detail;  ///< why it failed, or what was measured
};

struct ValidateOptions {
  /// key.path=value settings applied to the plugin's default configuration before it is built.
  std::vector<std::pair<std::string, std::string>> overrides;
  /// The backbone used to exercise a task plugin.
  std::string backbone = "prismer";
  /// Scratch folder for files the checks write (a fresh temporary folder when empty).
  std::string scratch_dir;
};

/// Runs the checks for the plugin's kind (see DESIGN.md): metadata, construction from its defaults, then
/// experts: labels of the declared shape on synthetic images, save/load round trip, encode channels;
/// datasets: enumerate and decode the first samples (a folder of synthetic images is offered as `root`);
/// backbones: encode/decode shapes and cached == uncached decoding; tasks: a finite loss and predictions.
/// Never throws for a failing plugin: failures are results.
PRISMER_API std::vector<CheckResult> validate_plugin(const PluginRegistry& registry, const PluginRecord& plugin,
                                                     const ValidateOptions& options);

/// Writes a few small synthetic RGB images (PNG and JPEG, nested folders) into `dir`; returns their paths.
PRISMER_API std::vector<std::string> write_synthetic_images(const std::string& dir, int count, unsigned seed = 0);

}  // namespace prismer
