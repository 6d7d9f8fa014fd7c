/// @file
/// Finding zoo files on disk: the zoo folder and the `zoo:NAME` resolver other code calls.
#pragma once

#include <prismer/zoo/manifest.h>

#include <string>

namespace prismer::zoo {

/// The zoo folder: `$PRISMER_ZOO_DIR` when set and not empty, else `models`.
std::string default_dir();

/// Prefix that marks a zoo reference in configs: `zoo:caption_prismer_base`.
inline constexpr const char* kRefPrefix = "zoo:";

/// Turns a reference into a local file path. `zoo:NAME` becomes `DIR/<entry file>` (DIR: `dir`, or
/// default_dir() when empty; manifest from load_manifest()); anything else is a plain path and is returned
/// unchanged. Throws ZooError when the file is missing: for `zoo:NAME` the message contains the exact
/// command that fetches it (`prismer download --models NAME`, plus `--dir DIR` when DIR is not the
/// default); for a plain path it names the path. An unknown NAME lists the known names.
std::string resolve(const std::string& ref, const std::string& dir = "");

/// As resolve(), with an explicit manifest.
std::string resolve(const std::string& ref, const std::string& dir, const Manifest& manifest);

/// The command line that downloads entry `name` into `dir` (the `--dir` part only when `dir` is not
/// default_dir()).
std::string download_hint(const std::string& name, const std::string& dir);

}  // namespace prismer::zoo
