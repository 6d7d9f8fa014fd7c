// Finding, checking and instantiating plugins (used by the `prismer` command, pipelines and tests).
#pragma once

#include <prismer/component.h>
#include <prismer/config.h>
#include <prismer/export.h>
#include <prismer/plugin.h>

#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace prismer {

/// A plugin that cannot be loaded or used; what() names the file and the reason.
class PRISMER_API PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~PluginError() override;
};

/// One loaded plugin library.
struct PluginRecord {
  std::string name;
  std::string kind;
  std::string version;
  std::string summary;
  std::string default_config;
  std::string file;
  const PrismerPluginInfo* info = nullptr;
};

/// Every plugin found so far. Libraries are loaded once and never unloaded (they link LibTorch, whose
/// static state must outlive every object a plugin created).
class PRISMER_API PluginRegistry {
 public:
  /// The folders searched by default, in order: the build's plugin folder next to the executable
  /// (`<exe>/../plugins`), the install folder (`<exe>/../lib/prismer/plugins`), then $PRISMER_PLUGIN_PATH
  /// (colon-separated).
  static std::vector<std::string> default_search_path();

  /// Loads every `*.so` directly inside `dirs` (missing folders are ignored). Files that are not
  /// plugins or are refused are recorded in problems(), never fatal; a duplicate name is recorded too.
  void scan(const std::vector<std::string>& dirs);
  /// Loads one library; throws PluginError on anything wrong (no entry point, wrong API version,
  /// torch or C++ ABI mismatch, bad metadata, a name already taken by another file).
  const PluginRecord& load_file(const std::string& path);

  /// The plugin called `name`, or nullptr.
  const PluginRecord* find(const std::string& name) const;
  /// The plugin called `name` of `kind` (any kind when empty); PluginError lists the known ones otherwise.
  const PluginRecord& require(const std::string& name, const std::string& kind = "") const;
  /// Loaded plugins of `kind` (all when empty), sorted by name.
  std::vector<const PluginRecord*> list(const std::string& kind = "") const;
  /// Messages about files that were skipped while scanning.
  const std::vector<std::string>& problems() const { return problems_; }

  /// The plugin's default configuration, parsed.
  static Config defaults(const PluginRecord& record);
  /// Checks `config` against the plugin's defaults (its `plugin:` key is allowed) and creates the component.
  std::unique_ptr<Component> create(const PluginRecord& record, const Config& config) const;
  /// create() followed by a check that the component really is a T.
  template <typename T>
  std::unique_ptr<T> create_as(const PluginRecord& record, const Config& config) const {
    std::unique_ptr<Component> c = create(record, config);
    T* typed = dynamic_cast<T*>(c.get());
    if (typed == nullptr)
      throw PluginError(record.file + ": plugin '" + record.name + "' declares kind '" + record.kind +
                        "' but its factory made something else");
    c.release();
    return std::unique_ptr<T>(typed);
  }

 private:
  std::deque<PluginRecord> records_;  // deque: records keep their addresses as more are loaded
  std::vector<std::string> problems_;
};

}  // namespace prismer
