// Locating the reference fixtures that the original Python code produced (../shared/fixtures).
//
// Tests discover their cases from the folders found here, so a new case dropped in with the same layout
// runs without code changes. With CI=true a missing fixture is a failure; outside CI it is reported loudly.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace prismer::test {

namespace fs = std::filesystem;

/// True when running under CI (CI=true): missing fixtures then fail instead of warning.
inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// The fixtures root: $PRISMER_FIXTURES, else ../shared/fixtures next to the source tree.
inline fs::path fixtures_root() {
  if (const char* env = std::getenv("PRISMER_FIXTURES"); env != nullptr && *env != '\0') return env;
  return fs::path(PRISMER_SOURCE_DIR) / ".." / "shared" / "fixtures";
}

/// Checks that a fixture exists. Missing: a failed check under CI, a loud warning otherwise. Returns existence.
inline bool require_fixture(const fs::path& path) {
  if (fs::exists(path)) return true;
  const std::string msg = "missing fixture: " + path.string();
  if (running_in_ci()) {
    FAIL_CHECK(msg);
  } else {
    std::cerr << "WARNING: " << msg << " (not checked; with CI=true this fails)\n";
    WARN_MESSAGE(false, msg);
  }
  return false;
}

/// Case sub-folders of a fixture folder, sorted by name; folders starting with '_' or '.' are metadata.
inline std::vector<fs::path> case_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!require_fixture(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !name.empty() && name[0] != '_' && name[0] != '.') out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) {
    if (running_in_ci()) FAIL_CHECK("no case folders under " << dir.string());
    else std::cerr << "WARNING: no case folders under " << dir << "\n";
  }
  return out;
}

/// Prefixes of prefixed case sets in one folder: for `X_meta.json` beside `meta.json`, returns {"", "X_"}.
inline std::vector<std::string> case_prefixes(const fs::path& dir, const std::string& marker = "meta.json") {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= marker.size() && name.compare(name.size() - marker.size(), marker.size(), marker) == 0)
      out.push_back(name.substr(0, name.size() - marker.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Reads a whole file as bytes (empty string when it cannot be opened).
inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Prints the name of the case being run, so logs show which case failed.
inline void announce_case(const std::string& name) { std::cout << "  case " << name << std::endl; }

}  // namespace prismer::test
