// Settings that name a file: a plain path, or a model-zoo reference `zoo:NAME` (configs/zoo.yaml). Every in-tree
// plugin resolves its weight and data files through these, so the errors read the same everywhere.
#pragma once

#include <prismer/config.h>

#include <string>

namespace prismer::plugins {

/// The file setting `key` names. `zoo:NAME` becomes the zoo file's path (prismer::zoo::resolve) in builds with the
/// model zoo; a plain path must exist there. Fails through cfg[key].fail(), so the message names the config file and
/// the key, when the setting is empty (`empty_hint` says what belongs there), the file is missing, the zoo entry is
/// unknown or not downloaded (the message gives the `prismer download` command), or the build has no zoo.
///
///     const std::string path = file_setting(cfg, "weights", "a path to 10_model.pth or zoo:expert_edge");
std::string file_setting(const Config& cfg, const std::string& key, const std::string& empty_hint);

/// As file_setting(), but an empty or absent setting gives "" (an optional file).
std::string optional_file_setting(const Config& cfg, const std::string& key);

}  // namespace prismer::plugins
