// Config helpers the list dataset plugins share.
#pragma once

#include <prismer/config.h>

#include <string>

namespace prismer::datasets {

/// The folder named by `config[key]`, resolved under `base` when relative (base may be empty); a config error
/// (file:line:column) when it is empty or not a folder.
std::string require_folder(const Config& config, const std::string& key, const std::string& base = "");

/// `config[key]` resolved under `root`, or `root/fallback` when the key is empty; a config error when the
/// file does not exist.
std::string require_file(const Config& config, const std::string& key, const std::string& root,
                         const std::string& fallback);

/// `config[key]` as a positive int (max_words).
int positive_int(const Config& config, const std::string& key);

}  // namespace prismer::datasets
