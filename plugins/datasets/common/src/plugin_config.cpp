// Folder, file and number checks with config positions in the message.
#include "prismer/datasets/plugin_config.h"

#include "prismer/datasets/paths.h"

#include <filesystem>

namespace prismer::datasets {

std::string require_folder(const Config& config, const std::string& key, const std::string& base) {
  const Config node = config[key];
  const std::string value = node.as<std::string>();
  if (value.empty() && base.empty()) node.fail("set '" + key + "' to the data folder");
  const std::string dir = resolve_under(base, value);
  if (!std::filesystem::is_directory(dir)) node.fail("folder '" + dir + "' does not exist");
  return dir;
}

std::string require_file(const Config& config, const std::string& key, const std::string& root,
                         const std::string& fallback) {
  const Config node = config[key];
  const std::string value = node.is_null() ? std::string() : node.as<std::string>();
  const std::string file = resolve_under(root, value.empty() ? fallback : value);
  if (!std::filesystem::is_regular_file(file)) node.fail("file '" + file + "' does not exist");
  return file;
}

int positive_int(const Config& config, const std::string& key) {
  const int v = config.get<int>(key);
  if (v <= 0) config[key].fail("must be positive");
  return v;
}

}  // namespace prismer::datasets
