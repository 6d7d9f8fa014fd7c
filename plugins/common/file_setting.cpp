#include "file_setting.h"

#ifdef PRISMER_PLUGINS_WITH_ZOO
#include <prismer/zoo/zoo.h>
#endif

#include <exception>

namespace prismer::plugins {

std::string optional_file_setting(const Config& cfg, const std::string& key) {
  const std::string ref = cfg.get<std::string>(key, "");
  if (ref.empty()) return ref;
#ifdef PRISMER_PLUGINS_WITH_ZOO
  try {
    return prismer::zoo::resolve(ref);
  } catch (const std::exception& e) {
    cfg[key].fail(e.what());
  }
#else
  if (ref.rfind("zoo:", 0) == 0) cfg[key].fail("this build has no model zoo; give the file's path");
  return ref;
#endif
}

std::string file_setting(const Config& cfg, const std::string& key, const std::string& empty_hint) {
  if (cfg.get<std::string>(key, "").empty()) cfg[key].fail("must name a file: " + empty_hint);
  return optional_file_setting(cfg, key);
}

}  // namespace prismer::plugins
