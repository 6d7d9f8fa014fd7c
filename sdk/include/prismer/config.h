// A typed, read-only view of a YAML configuration whose errors say where the problem is.
#pragma once

#include <prismer/export.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer {

/// A configuration problem. what() reads "FILE:LINE:COLUMN: key.path: message".
class PRISMER_API ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~ConfigError() override;
};

/// One node of a YAML document, with the file it came from and its key path.
///
/// Example:
/// \code
///   prismer::Config cfg = prismer::Config::parse_file("configs/experts.yaml");
///   std::string root = cfg["dataset"].get<std::string>("root");    // required
///   int batch = cfg.get<int>("batch_size", 8);                      // with a default
///   if (batch <= 0) cfg["batch_size"].fail("must be positive");     // throws ConfigError with file:line:col
/// \endcode
///
/// Plugins declare their keys in a default YAML document; `with_defaults()` checks a user's node
/// against it (unknown keys and wrong types are errors) and fills in what the user left out.
class PRISMER_API Config {
 public:
  /// An empty map.
  Config();

  /// Parses a file; syntax errors become ConfigError with the file's position.
  static Config parse_file(const std::string& path);
  /// Parses YAML text; `source` names it in messages.
  static Config parse_string(const std::string& text, const std::string& source);

  bool is_null() const;
  bool is_map() const;
  bool is_sequence() const;
  bool is_scalar() const;
  /// Whether a map node has this key.
  bool has(const std::string& key) const;
  /// The child at `key` (a null node with this key's path when absent).
  Config operator[](const std::string& key) const;
  /// The element at `index` of a sequence.
  Config operator[](std::size_t index) const;
  /// Keys of a map, in file order.
  std::vector<std::string> keys() const;
  /// Elements of a sequence.
  std::vector<Config> items() const;
  std::size_t size() const;

  /// This node as a value; throws ConfigError naming the expected type when it does not convert.
  template <typename T>
  T as() const;
  /// The required child `key` as a value.
  template <typename T>
  T get(const std::string& key) const;
  /// The child `key` as a value, or `fallback` when absent or null.
  template <typename T>
  T get(const std::string& key, const T& fallback) const;

  /// "FILE:LINE:COLUMN" of this node (1-based), or the file name alone for nodes it has no position for.
  std::string where() const;
  /// Dotted key path from the document root, e.g. "dataset.root" or "experts[2].name".
  std::string path() const;
  /// Throws ConfigError "where: path: message".
  [[noreturn]] void fail(const std::string& message) const;

  /// Validates this node against `defaults` and returns the merged view: keys not in `defaults` and values
  /// whose type differs from the default's are errors; absent keys take the default. A null default
  /// accepts any value; an empty map default accepts any map.
  Config with_defaults(const Config& defaults) const;
  /// Sets `dotted.path` (creating maps on the way) to a YAML value, as `prismer run --set` does.
  void set(const std::string& dotted_path, const std::string& yaml_value);
  /// YAML text of this node.
  std::string dump() const;

  struct Impl;

 private:
  explicit Config(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// Conversions supported by as(), get() (explicit specialisations, defined in libprismer_core).
template <> PRISMER_API std::string Config::as<std::string>() const;
template <> PRISMER_API bool Config::as<bool>() const;
template <> PRISMER_API int Config::as<int>() const;
template <> PRISMER_API std::int64_t Config::as<std::int64_t>() const;
template <> PRISMER_API double Config::as<double>() const;
template <> PRISMER_API float Config::as<float>() const;
template <> PRISMER_API std::vector<std::string> Config::as<std::vector<std::string>>() const;
template <> PRISMER_API std::vector<std::int64_t> Config::as<std::vector<std::int64_t>>() const;
template <> PRISMER_API std::vector<double> Config::as<std::vector<double>>() const;

template <typename T>
T Config::get(const std::string& key) const {
  Config child = (*this)[key];
  if (child.is_null()) fail("missing required key '" + key + "'");
  return child.as<T>();
}

template <typename T>
T Config::get(const std::string& key, const T& fallback) const {
  Config child = (*this)[key];
  return child.is_null() ? fallback : child.as<T>();
}

}  // namespace prismer
