// The plugin loader: Boost.DLL to open libraries, strict checks on the descriptor, no unloading.
#include <prismer/core/plugin_registry.h>

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace prismer {

PluginError::~PluginError() = default;

namespace {

namespace fs = std::filesystem;

const std::set<std::string>& known_kinds() {
  static const std::set<std::string> kinds{"expert", "backbone", "task", "dataset"};
  return kinds;
}

// Every library ever opened stays open for the life of the process (see plugins.md: unloading a
// library that linked LibTorch crashes at exit).
void keep_forever(boost::dll::shared_library lib) {
  static std::mutex mutex;
  static auto* libraries = new std::vector<boost::dll::shared_library>();  // never destroyed, on purpose
  std::lock_guard<std::mutex> lock(mutex);
  libraries->push_back(std::move(lib));
}

fs::path executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

}  // namespace

std::vector<std::string> PluginRegistry::default_search_path() {
  std::vector<std::string> dirs;
  const fs::path exe = executable_dir();
  dirs.push_back((exe / ".." / "plugins").lexically_normal().string());
  dirs.push_back((exe / ".." / "lib" / "prismer" / "plugins").lexically_normal().string());
  if (const char* env = std::getenv("PRISMER_PLUGIN_PATH")) {
    std::stringstream ss(env);
    for (std::string dir; std::getline(ss, dir, ':');)
      if (!dir.empty()) dirs.push_back(dir);
  }
  return dirs;
}

void PluginRegistry::scan(const std::vector<std::string>& dirs) {
  std::set<std::string> seen_dirs;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(dir, ec);
    if (ec || !fs::is_directory(canonical) || !seen_dirs.insert(canonical.string()).second) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(canonical, ec))
      if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string path = file.string();
      const bool already = std::any_of(records_.begin(), records_.end(), [&](const PluginRecord& r) { return r.file == path; });
      if (already) continue;
      try {
        load_file(path);
      } catch (const std::exception& e) {
        problems_.push_back(e.what());
      }
    }
  }
}

const PluginRecord& PluginRegistry::load_file(const std::string& path_in) {
  std::error_code ec;
  const std::string path = fs::weakly_canonical(path_in, ec).string();
  if (!fs::exists(path)) throw PluginError(path_in + ": no such file");
  for (const PluginRecord& r : records_)
    if (r.file == path) return r;

  boost::dll::shared_library lib;
  try {
    lib.load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(path + ": cannot load the library: " + e.what());
  }
  if (!lib.has(PRISMER_PLUGIN_ENTRY)) {
    keep_forever(std::move(lib));
    throw PluginError(path + ": not a Prismer plugin: the entry point " PRISMER_PLUGIN_ENTRY
                      " was not found (a plugin defines it with PRISMER_PLUGIN(...))");
  }
  auto entry = lib.get<const PrismerPluginInfo*()>(PRISMER_PLUGIN_ENTRY);
  keep_forever(lib);
  const PrismerPluginInfo* info = nullptr;
  try {
    info = entry();
  } catch (const std::exception& e) {
    throw PluginError(path + ": the entry point threw: " + e.what());
  }
  if (info == nullptr) throw PluginError(path + ": the entry point returned no plugin description");
  if (info->api_version != PRISMER_PLUGIN_API_VERSION)
    throw PluginError(path + ": wrong plugin API version: got " + std::to_string(info->api_version) + ", supported " +
                      std::to_string(PRISMER_PLUGIN_API_VERSION) + " (rebuild the plugin against this SDK)");
  if (info->torch_version == nullptr || std::string(info->torch_version) != TORCH_VERSION)
    throw PluginError(path + ": built against LibTorch " + std::string(info->torch_version ? info->torch_version : "(none)") +
                      ", but this program uses LibTorch " TORCH_VERSION " (one LibTorch per process: rebuild the plugin)");
  if (info->cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    throw PluginError(path + ": built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(info->cxx11_abi) + ", this program uses " +
                      std::to_string(_GLIBCXX_USE_CXX11_ABI));
  PluginRecord record;
  record.file = path;
  record.info = info;
  record.name = info->name ? info->name : "";
  record.kind = info->kind ? info->kind : "";
  record.version = info->version ? info->version : "";
  record.summary = info->summary ? info->summary : "";
  record.default_config = info->default_config ? info->default_config : "";
  if (!valid_name(record.name))
    throw PluginError(path + ": invalid plugin name '" + record.name + "' (letters, digits, '_' and '-' only)");
  if (known_kinds().count(record.kind) == 0)
    throw PluginError(path + ": plugin '" + record.name + "' has unknown kind '" + record.kind +
                      "' (expert, backbone, task or dataset)");
  if (info->create == nullptr) throw PluginError(path + ": plugin '" + record.name + "' has no factory");
  for (const PluginRecord& r : records_)
    if (r.name == record.name)
      throw PluginError("plugin name '" + record.name + "' is defined twice: by " + r.file + " and by " + path +
                        " (remove one, or put only one folder on the plugin path)");
  try {
    Config d = defaults(record);
    if (!d.is_map()) throw PluginError("");
  } catch (const std::exception& e) {
    throw PluginError(path + ": plugin '" + record.name + "' has a default configuration that is not a YAML map " + e.what());
  }
  records_.push_back(std::move(record));
  return records_.back();
}

const PluginRecord* PluginRegistry::find(const std::string& name) const {
  for (const PluginRecord& r : records_)
    if (r.name == name) return &r;
  return nullptr;
}

const PluginRecord& PluginRegistry::require(const std::string& name, const std::string& kind) const {
  const PluginRecord* r = find(name);
  if (r != nullptr && (kind.empty() || r->kind == kind)) return *r;
  std::string known;
  for (const PluginRecord* p : list(kind)) known += (known.empty() ? "" : ", ") + p->name;
  if (r != nullptr)
    throw PluginError("plugin '" + name + "' is a " + r->kind + ", not a " + kind + " (" + kind + " plugins: " +
                      (known.empty() ? "none" : known) + ")");
  throw PluginError("unknown " + (kind.empty() ? std::string("plugin") : kind + " plugin") + " '" + name + "' (known: " +
                    (known.empty() ? "none found; is PRISMER_PLUGIN_PATH set?" : known) + ")");
}

std::vector<const PluginRecord*> PluginRegistry::list(const std::string& kind) const {
  std::vector<const PluginRecord*> out;
  for (const PluginRecord& r : records_)
    if (kind.empty() || r.kind == kind) out.push_back(&r);
  std::sort(out.begin(), out.end(), [](const PluginRecord* a, const PluginRecord* b) { return a->name < b->name; });
  return out;
}

Config PluginRegistry::defaults(const PluginRecord& record) {
  return Config::parse_string(record.default_config, "defaults of plugin '" + record.name + "'");
}

std::unique_ptr<Component> PluginRegistry::create(const PluginRecord& record, const Config& config) const {
  Config d = defaults(record);
  d.set("plugin", "~");  // the pipeline's own key naming the plugin: any value
  const Config merged = config.with_defaults(d);
  Component* made = record.info->create(merged);
  if (made == nullptr) throw PluginError(record.file + ": plugin '" + record.name + "' factory returned nothing");
  return std::unique_ptr<Component>(made);
}

}  // namespace prismer
