// Parsing `--set key.path=value` arguments, shared by `run` and `plugins validate`.
#pragma once

#include <prismer/config.h>

#include <string>
#include <utility>
#include <vector>

namespace prismer::cli {

inline std::vector<std::pair<std::string, std::string>> parse_set_options(const std::vector<std::string>& raw) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& s : raw) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("--set " + s + ": expected key.path=value");
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

}  // namespace prismer::cli
