//===- prismer/plugin.h - The plugin entry point --------------------------===//
//
// Every plugin is a shared library exporting ONE C symbol, `prismerGetPluginInfo`, that returns a
// plain struct: the SDK ABI version, the LibTorch version and C++ ABI it was built with, its name,
// kind, version, summary, default configuration (YAML) and a factory. Nothing registers itself at
// load time, and libraries are never unloaded.
//
// Usage, in exactly one source file of the plugin:
// \code
//   #include <prismer/plugin.h>
//   #include <prismer/expert.h>
//
//   class Threshold : public prismer::Expert { ... explicit Threshold(const prismer::Config&); ... };
//
//   PRISMER_PLUGIN(Threshold, "threshold_edge", expert, "1.0.0",
//                  "Edges by thresholding the gradient magnitude",
//                  "threshold: 64      # gradient magnitude that counts as an edge\n")
// \endcode
// and in CMake (in-tree, or out of tree after `find_package(PrismerSDK)`):
// \code
//   prismer_add_plugin(threshold_edge SOURCES threshold.cpp)
// \endcode
// The loader refuses a library whose api_version, torch_version or cxx11_abi differs from the
// host's, with a message naming the file and both values.
//===----------------------------------------------------------------------===//
#pragma once

#include <prismer/component.h>
#include <prismer/config.h>
#include <prismer/export.h>

#include <torch/version.h>

#include <cstdint>

/// Bumped whenever PrismerPluginInfo or an SDK interface changes incompatibly.
/// 2: Dataset::answer_list() and Sample::label_subdir (new virtual and field), Task::prepare_predictions() (new
///    virtual), Backbone::decode's memory may have fewer rows than the batch (the rows of one memory row consecutive).
#define PRISMER_PLUGIN_API_VERSION 2u

/// The symbol every plugin exports.
#define PRISMER_PLUGIN_ENTRY "prismerGetPluginInfo"

extern "C" {

/// The plain descriptor a plugin returns. Strings are static and owned by the plugin.
struct PrismerPluginInfo {
  std::uint32_t api_version;   ///< PRISMER_PLUGIN_API_VERSION the plugin was compiled against
  const char* torch_version;   ///< TORCH_VERSION the plugin was compiled against
  int cxx11_abi;               ///< _GLIBCXX_USE_CXX11_ABI the plugin was compiled with
  const char* name;            ///< unique plugin name, e.g. "image_folder"
  const char* kind;            ///< "expert", "backbone", "task" or "dataset"
  const char* version;         ///< the plugin's own version
  const char* summary;         ///< one line for `prismer plugins list`
  const char* default_config;  ///< YAML map of every accepted key with its default
  /// Creates the component from a config already checked against default_config. Throws on bad input.
  prismer::Component* (*create)(const prismer::Config& config);
};

typedef const PrismerPluginInfo* (*PrismerGetPluginInfoFn)();
}

/// Defines the entry point of a plugin whose component class CLASS has a constructor taking
/// `const prismer::Config&`. KIND is one of expert, backbone, task, dataset (unquoted).
#define PRISMER_PLUGIN(CLASS, NAME, KIND, VERSION, SUMMARY, DEFAULT_CONFIG)                          \
  extern "C" __attribute__((visibility("default"))) const PrismerPluginInfo* prismerGetPluginInfo() { \
    static const PrismerPluginInfo info{                                                              \
        PRISMER_PLUGIN_API_VERSION, TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI, NAME, #KIND, VERSION,      \
        SUMMARY,                    DEFAULT_CONFIG,                                                   \
        [](const prismer::Config& config) -> prismer::Component* { return new CLASS(config); }};      \
    return &info;                                                                                     \
  }
