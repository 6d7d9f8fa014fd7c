// The `zoo:NAME` resolver.
#include <prismer/zoo/zoo.h>

#include <cstdlib>
#include <filesystem>

namespace prismer::zoo {

namespace fs = std::filesystem;

std::string default_dir() {
  if (const char* env = std::getenv("PRISMER_ZOO_DIR"); env != nullptr && *env != '\0') return env;
  return "models";
}

std::string download_hint(const std::string& name, const std::string& dir) {
  std::string cmd = "prismer download --models " + name;
  if (!dir.empty() && dir != default_dir()) cmd += " --dir " + dir;
  return cmd;
}

std::string resolve(const std::string& ref, const std::string& dir, const Manifest& manifest) {
  const std::string prefix = kRefPrefix;
  if (ref.compare(0, prefix.size(), prefix) != 0) {
    if (!fs::exists(ref)) throw ZooError("file not found: " + ref);
    return ref;
  }
  const std::string name = ref.substr(prefix.size());
  const Entry* entry = manifest.find(name);
  if (entry == nullptr)
    throw ZooError("unknown zoo entry '" + name + "' in " + ref + " (known: " + manifest.names() + ")");
  const std::string root = dir.empty() ? default_dir() : dir;
  const std::string path = (fs::path(root) / entry->file).string();
  if (!fs::exists(path))
    throw ZooError(ref + " is not downloaded (expected " + path + "); fetch it with: " + download_hint(name, root));
  return path;
}

std::string resolve(const std::string& ref, const std::string& dir) {
  if (ref.compare(0, std::string(kRefPrefix).size(), kRefPrefix) != 0) return resolve(ref, dir, Manifest{});
  return resolve(ref, dir, load_manifest());
}

}  // namespace prismer::zoo
