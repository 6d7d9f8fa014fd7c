/// @file
/// The model zoo manifest (`configs/zoo.yaml`): which files exist, where they come from, how to check them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer::zoo {

/// Any failure of the zoo (manifest, download, verification, resolution). The message is one line meant
/// for the user.
class ZooError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a zoo entry is: a Prismer checkpoint, an expert's weights, or an auxiliary file.
enum class Kind { model, expert, aux };

/// "model", "expert" or "aux".
const char* kind_name(Kind kind);

/// One downloadable file.
struct Entry {
  std::string name;                   ///< what `--models NAME` and `zoo:NAME` refer to
  Kind kind = Kind::model;            ///< model, expert or aux
  std::string base;                   ///< name of the base URL (empty: the manifest's base_url)
  std::string path;                   ///< URL path relative to the base, unencoded (e.g. `a/b+c.pth`)
  std::string file;                   ///< where it lands, relative to the zoo folder
  std::optional<std::uint64_t> size;  ///< size in bytes when published
  std::optional<std::string> sha256;  ///< lower-case hex SHA-256 when published
  std::string licence;                ///< licence of the file
  std::string upstream;               ///< where it originally comes from
  std::string summary;                ///< one line
};

/// The whole manifest.
struct Manifest {
  std::string source;                        ///< file it was read from, or "<built-in>"
  std::string base_url;                      ///< default base URL
  std::map<std::string, std::string> bases;  ///< further named base URLs
  std::vector<Entry> entries;                ///< in manifest order

  /// The entry called `name`, or nullptr.
  const Entry* find(const std::string& name) const;
  /// Every entry name, comma-separated (for error messages).
  std::string names() const;
  /// The full URL of `entry`: `mirror` (when not empty) or the entry's base, '/', the percent-encoded path.
  std::string url(const Entry& entry, const std::string& mirror = "") const;
};

/// Parses a manifest from YAML text; `source` names it in errors. Throws ZooError naming the bad entry.
Manifest parse_manifest(const std::string& yaml_text, const std::string& source);

/// Reads a manifest file. Throws ZooError when it is missing or malformed.
Manifest load_manifest_file(const std::string& path);

/// The manifest to use: `path` when not empty, else `$PRISMER_ZOO_MANIFEST` when set, else the copy of
/// `configs/zoo.yaml` compiled into the library.
Manifest load_manifest(const std::string& path = "");

/// The text of `configs/zoo.yaml` as it was when the library was built.
const char* builtin_manifest_text();

/// Percent-encodes a URL path: everything but unreserved characters (A-Z a-z 0-9 - . _ ~) and '/'.
std::string encode_url_path(const std::string& path);

}  // namespace prismer::zoo
