// `prismer plugins list` and `prismer plugins validate`.
#include "commands.h"
#include "set_option.h"

#include <prismer/core/conformance.h>
#include <prismer/core/plugin_registry.h>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>

namespace prismer::cli {

namespace {

int list_plugins(int argc, char** argv) {
  cxxopts::Options options("prismer plugins list", "List every plugin found on the plugin path");
  options.add_options()("kind", "only this kind (expert, backbone, task, dataset)", cxxopts::value<std::string>()->default_value(""))(
      "json", "print JSON")("h,help", "this help");
  const auto args = options.parse(argc, argv);
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return kOk;
  }
  const std::string kind = args["kind"].as<std::string>();
  if (!kind.empty() && kind != "expert" && kind != "backbone" && kind != "task" && kind != "dataset") {
    std::cerr << "error: --kind must be expert, backbone, task or dataset\n";
    return kUsage;
  }
  PluginRegistry registry;
  registry.scan(PluginRegistry::default_search_path());
  const auto plugins = registry.list(kind);
  if (args.count("json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const PluginRecord* p : plugins)
      out.push_back({{"name", p->name}, {"kind", p->kind}, {"version", p->version}, {"file", p->file}, {"summary", p->summary}});
    std::cout << out.dump(2) << "\n";
  } else {
    std::size_t width = 4;
    for (const PluginRecord* p : plugins) width = std::max(width, p->name.size());
    std::cout << std::left << std::setw(static_cast<int>(width) + 2) << "NAME" << std::setw(10) << "KIND" << std::setw(9)
              << "VERSION" << "SUMMARY\n";
    for (const PluginRecord* p : plugins)
      std::cout << std::left << std::setw(static_cast<int>(width) + 2) << p->name << std::setw(10) << p->kind << std::setw(9)
                << p->version << p->summary << "\n    " << p->file << "\n";
    if (plugins.empty()) std::cout << "(no plugins found; searched: build/plugins, the install folder, $PRISMER_PLUGIN_PATH)\n";
  }
  for (const std::string& problem : registry.problems()) std::cerr << "warning: skipped " << problem << "\n";
  return kOk;
}

int validate(int argc, char** argv) {
  cxxopts::Options options("prismer plugins validate", "Run the conformance checks of a plugin's kind");
  options.positional_help("NAME|FILE");
  options.add_options()("target", "plugin name or library file", cxxopts::value<std::string>())(
      "set", "key.path=value applied to the plugin's default config", cxxopts::value<std::vector<std::string>>())(
      "backbone", "backbone used to exercise a task plugin", cxxopts::value<std::string>()->default_value("prismer"))(
      "h,help", "this help");
  options.parse_positional({"target"});
  const auto args = options.parse(argc, argv);
  if (args.count("help") || !args.count("target")) {
    std::cout << options.help() << "\n";
    return args.count("help") ? kOk : kUsage;
  }
  const std::string target = args["target"].as<std::string>();
  ValidateOptions vo;
  vo.backbone = args["backbone"].as<std::string>();
  if (args.count("set")) vo.overrides = parse_set_options(args["set"].as<std::vector<std::string>>());

  PluginRegistry registry;
  const PluginRecord* plugin = nullptr;
  const bool is_file = target.find('/') != std::string::npos || std::filesystem::path(target).extension() == ".so";
  if (is_file) {
    try {
      plugin = &registry.load_file(target);
    } catch (const std::exception& e) {
      std::cout << "FAIL  load: " << e.what() << "\n";
      return kFailure;
    }
  }
  registry.scan(PluginRegistry::default_search_path());  // other plugins a check may need (a task's backbone)
  if (!is_file) {
    try {
      plugin = &registry.require(target);
    } catch (const std::exception& e) {
      std::cout << "FAIL  load: " << e.what() << "\n";
      return kFailure;
    }
  }
  std::cout << "validating " << plugin->kind << " plugin '" << plugin->name << "' " << plugin->version << " (" << plugin->file
            << ")\n";
  std::cout << "PASS  load: API version " << PRISMER_PLUGIN_API_VERSION << ", LibTorch " << plugin->info->torch_version << "\n";
  int failed = 0;
  const auto results = validate_plugin(registry, *plugin, vo);
  for (const CheckResult& r : results) {
    std::cout << (r.passed ? "PASS  " : "FAIL  ") << r.name << (r.detail.empty() ? "" : ": " + r.detail) << "\n";
    if (!r.passed) ++failed;
  }
  std::cout << (results.size() + 1 - static_cast<std::size_t>(failed)) << " passed, " << failed << " failed\n";
  return failed == 0 ? kOk : kFailure;
}

}  // namespace

int plugins_command(int argc, char** argv) {
  const std::string sub = argc >= 2 ? argv[1] : "";
  if (sub == "list") return list_plugins(argc - 1, argv + 1);
  if (sub == "validate") return validate(argc - 1, argv + 1);
  std::cerr << "usage: prismer plugins list [--kind K] [--json]\n"
               "       prismer plugins validate NAME|FILE [--set key=value ...] [--backbone NAME]\n";
  return kUsage;
}

}  // namespace prismer::cli
